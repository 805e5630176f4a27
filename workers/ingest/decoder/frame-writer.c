#include "frame-writer.h"

#include "fit.h"
#include "protocol.h"

static void report_size_change(FrameWriter *writer, const GstVideoInfo *in, int width, int height) {
  if (writer->source_width == GST_VIDEO_INFO_WIDTH(in) && writer->source_height == GST_VIDEO_INFO_HEIGHT(in)) return;
  char *text = g_strdup_printf("source %dx%d %s -> %dx%d %s", GST_VIDEO_INFO_WIDTH(in), GST_VIDEO_INFO_HEIGHT(in),
                               gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in)), width, height,
                               gst_video_format_to_string(writer->format));
  psd_send_info(text);
  g_free(text);
  writer->source_width = GST_VIDEO_INFO_WIDTH(in);
  writer->source_height = GST_VIDEO_INFO_HEIGHT(in);
}

gboolean frame_writer_send(FrameWriter *writer, GstSample *sample, gint64 pts_ns, const FrameDrops *drops) {
  GstVideoInfo in;
  GstCaps *caps = gst_sample_get_caps(sample);
  if (!caps || !gst_video_info_from_caps(&in, caps)) return FALSE;
  int width, height;
  fit_inside(GST_VIDEO_INFO_WIDTH(&in), GST_VIDEO_INFO_HEIGHT(&in), writer->size, &width, &height);
  if (!frame_converter_prepare(&writer->converter, &in, width, height, writer->format)) return FALSE;
  report_size_change(writer, &in, width, height);
  gsize pixels = GST_VIDEO_INFO_SIZE(&writer->converter.out);
  gsize needed = psd_frame_pixels_offset() + pixels;
  if (needed > writer->capacity) {
    writer->message = g_realloc(writer->message, needed);
    writer->capacity = needed;
  }
  if (!frame_converter_run(&writer->converter, gst_sample_get_buffer(sample), writer->message + psd_frame_pixels_offset()))
    return FALSE;
  struct psd_frame_info info = {
      .width = (uint32_t)width,
      .height = (uint32_t)height,
      .source_width = (uint32_t)GST_VIDEO_INFO_WIDTH(&in),
      .source_height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&in),
      .format = writer->format == GST_VIDEO_FORMAT_I420 ? PSD_FORMAT_I420 : PSD_FORMAT_RGB,
      .cap_drops = drops->cap,
      .behind_drops = drops->behind,
      .skip_drops = drops->skipped,
      .pts_ns = pts_ns,
  };
  psd_send_frame(writer->message, &info, pixels);
  return TRUE;
}
