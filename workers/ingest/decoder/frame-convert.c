#include "frame-convert.h"

/* Standard strides pad rows to 4 bytes (a 427-pixel RGB row is 1,284 bytes, not 1,281); the wire has none. */
static void pack_planes(GstVideoInfo *info) {
  int width = GST_VIDEO_INFO_WIDTH(info), height = GST_VIDEO_INFO_HEIGHT(info);
  if (GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_I420) {
    int chroma_width = (width + 1) / 2, chroma_height = (height + 1) / 2;
    info->stride[0] = width;
    info->stride[1] = info->stride[2] = chroma_width;
    info->offset[0] = 0;
    info->offset[1] = (gsize)width * height;
    info->offset[2] = info->offset[1] + (gsize)chroma_width * chroma_height;
    info->size = info->offset[2] + (gsize)chroma_width * chroma_height;
  } else {
    info->stride[0] = width * 3;
    info->offset[0] = 0;
    info->size = (gsize)width * 3 * height;
  }
}

/* videoconvertscale's defaults (gst-plugins-base 1.22, gstvideoconvertscale.c set_info): method=bilinear
 * (2-tap linear), no borders, sharpness 1, sharpen 0, envelope 2, Bayer dither with quantization 1 (a no-op for
 * 8-bit output), linear chroma resampling, full chroma and matrix conversion, no gamma or primaries conversion,
 * one thread (the decoder already uses the other cores). */
static GstStructure *videoconvertscale_defaults(int width, int height) {
  return gst_structure_new(
      "posestream-decode", GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
      GST_VIDEO_RESAMPLER_METHOD_LINEAR, GST_VIDEO_RESAMPLER_OPT_MAX_TAPS, G_TYPE_INT, 2,
      GST_VIDEO_RESAMPLER_OPT_ENVELOPE, G_TYPE_DOUBLE, 2.0, GST_VIDEO_RESAMPLER_OPT_SHARPNESS, G_TYPE_DOUBLE, 1.0,
      GST_VIDEO_RESAMPLER_OPT_SHARPEN, G_TYPE_DOUBLE, 0.0, GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, 0,
      GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, 0, GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, width,
      GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, height, GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
      GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_BAYER, GST_VIDEO_CONVERTER_OPT_DITHER_QUANTIZATION, G_TYPE_UINT,
      1, GST_VIDEO_CONVERTER_OPT_CHROMA_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
      GST_VIDEO_RESAMPLER_METHOD_LINEAR, GST_VIDEO_CONVERTER_OPT_ALPHA_MODE, GST_TYPE_VIDEO_ALPHA_MODE,
      GST_VIDEO_ALPHA_MODE_COPY, GST_VIDEO_CONVERTER_OPT_ALPHA_VALUE, G_TYPE_DOUBLE, 1.0,
      GST_VIDEO_CONVERTER_OPT_CHROMA_MODE, GST_TYPE_VIDEO_CHROMA_MODE, GST_VIDEO_CHROMA_MODE_FULL,
      GST_VIDEO_CONVERTER_OPT_MATRIX_MODE, GST_TYPE_VIDEO_MATRIX_MODE, GST_VIDEO_MATRIX_MODE_FULL,
      GST_VIDEO_CONVERTER_OPT_GAMMA_MODE, GST_TYPE_VIDEO_GAMMA_MODE, GST_VIDEO_GAMMA_MODE_NONE,
      GST_VIDEO_CONVERTER_OPT_PRIMARIES_MODE, GST_TYPE_VIDEO_PRIMARIES_MODE, GST_VIDEO_PRIMARIES_MODE_NONE,
      GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 1, NULL);
}

gboolean frame_converter_prepare(FrameConverter *self, const GstVideoInfo *in, int width, int height,
                                 GstVideoFormat format) {
  if (self->converter && gst_video_info_is_equal(&self->in, in) && GST_VIDEO_INFO_WIDTH(&self->out) == width &&
      GST_VIDEO_INFO_HEIGHT(&self->out) == height && GST_VIDEO_INFO_FORMAT(&self->out) == format) {
    return TRUE;
  }
  g_clear_pointer(&self->converter, gst_video_converter_free);
  self->in = *in;
  gst_video_info_set_interlaced_format(&self->out, format, GST_VIDEO_INFO_INTERLACE_MODE(in), width, height);
  /* I420 out is in video range (16-235), which OpenVINO's I420toRGB in the model graph assumes along with the BT.601
   * matrix (pipeline/image/i420.ts). A video-range YUV source keeps its own matrix and chroma siting, so the frame is
   * only scaled: converting BT.709 (HD cameras) to BT.601 cost a third of the decoder's CPU at 720p (1.1 vs 0.75 s
   * per 144 frames), while the model reading BT.709 as BT.601 changed coco-mini pose mAP50-95 by -0.002 (0.4581 vs
   * 0.4601 through RGB), less than a +-1-level dither does. A full-range source (JPEG cameras) or RGB is converted to
   * bt601: read as video range it would lose its contrast. */
  if (format == GST_VIDEO_FORMAT_I420) {
    if (GST_VIDEO_INFO_IS_YUV(in) && in->colorimetry.range == GST_VIDEO_COLOR_RANGE_16_235) {
      self->out.colorimetry = in->colorimetry;
      self->out.chroma_site = in->chroma_site;
    } else {
      gst_video_colorimetry_from_string(&self->out.colorimetry, GST_VIDEO_COLORIMETRY_BT601);
      self->out.chroma_site = GST_VIDEO_CHROMA_SITE_JPEG;
    }
  }
  self->out.par_n = in->par_n;
  self->out.par_d = in->par_d;
  self->out.fps_n = in->fps_n;
  self->out.fps_d = in->fps_d;
  pack_planes(&self->out);
  self->converter = gst_video_converter_new(&self->in, &self->out, videoconvertscale_defaults(width, height));
  return self->converter != NULL;
}

gboolean frame_converter_run(FrameConverter *self, GstBuffer *buffer, guint8 *dest) {
  GstVideoFrame source, target;
  if (!gst_video_frame_map(&source, &self->in, buffer, GST_MAP_READ)) return FALSE;
  gsize size = GST_VIDEO_INFO_SIZE(&self->out);
  GstBuffer *wrapped = gst_buffer_new_wrapped_full(0, dest, size, 0, size, NULL, NULL);
  gboolean mapped = gst_video_frame_map(&target, &self->out, wrapped, GST_MAP_WRITE);
  if (mapped) {
    gst_video_converter_frame(self->converter, &source, &target);
    gst_video_frame_unmap(&target);
  }
  gst_buffer_unref(wrapped);
  gst_video_frame_unmap(&source);
  return mapped;
}
