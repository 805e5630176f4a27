#ifndef POSESTREAM_DECODE_FRAME_CONVERT_H
#define POSESTREAM_DECODE_FRAME_CONVERT_H

#include <gst/video/video.h>

/*
 * Colour conversion and scaling of one decoded frame straight into the output message, with GStreamer's own
 * GstVideoConverter configured exactly as the videoconvertscale element configures it by default (so the bytes
 * equal `videoconvertscale ! video/x-raw,format=RGB,width=W,height=H`). Doing it here rather than in an element
 * lets every frame be converted at the size fitted to its own caps (no renegotiation when the source size
 * changes mid-stream) and only after the newest frame was chosen (stale frames are never converted).
 */
typedef struct {
  GstVideoInfo in;
  GstVideoInfo out; /* rows packed without padding: the wire layout */
  GstVideoConverter *converter;
} FrameConverter;

/* Prepares `out` for in -> width x height in `format` (RGB or I420); keeps the converter when nothing changed.
 * Returns FALSE when GStreamer cannot convert between the two. */
gboolean frame_converter_prepare(FrameConverter *self, const GstVideoInfo *in, int width, int height,
                                 GstVideoFormat format);

/* Converts `buffer` (laid out as `in`) into `dest`, which holds GST_VIDEO_INFO_SIZE(&self->out) bytes. */
gboolean frame_converter_run(FrameConverter *self, GstBuffer *buffer, guint8 *dest);

#endif
