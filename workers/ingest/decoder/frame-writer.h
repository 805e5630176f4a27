#ifndef POSESTREAM_DECODE_FRAME_WRITER_H
#define POSESTREAM_DECODE_FRAME_WRITER_H

#include <gst/gst.h>

#include "frame-convert.h"

/*
 * One decoded sample -> one PSD_FRAME message: the size fitted to the sample's own caps (fit.h), converted and
 * scaled straight into the message buffer (frame-convert.h), written to the pipe. Also tells ingest, once per
 * change, that the source size changed (PSD_INFO). Used by the writer thread only.
 */
typedef struct {
  int size;              /* side of the square frames are fitted into */
  GstVideoFormat format; /* RGB or I420 */
  FrameConverter converter;
  guint8 *message;
  gsize capacity;
  int source_width, source_height;
} FrameWriter;

/* Frames dropped before this one since the previous frame message, by reason (protocol.h). */
typedef struct {
  guint32 cap, behind, skipped;
} FrameDrops;

/* FALSE when the sample has no video caps or GStreamer cannot convert it. */
gboolean frame_writer_send(FrameWriter *self, GstSample *sample, gint64 pts_ns, const FrameDrops *drops);

#endif
