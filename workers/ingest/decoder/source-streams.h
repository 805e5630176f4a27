#ifndef POSESTREAM_DECODE_SOURCE_STREAMS_H
#define POSESTREAM_DECODE_SOURCE_STREAMS_H

#include <gst/gst.h>

#include "protocol.h"

/*
 * What kinds of elementary streams the source has, learnt from decodebin's autoplug-continue questions and
 * rtspsrc's pads, so that a source that never decoded a frame can be explained: "no video stream" (audio only) or
 * "no decoder for video/x-h265", where GStreamer would say "missing a plug-in" or "not-linked".
 */

/* Connects to every decodebin/uridecodebin and rtspsrc in the pipeline; call once, before it plays. */
void source_streams_watch(GstBin *pipeline);

/* When nothing was decoded (`decoded` FALSE) and the streams explain `error`: sets code and text (g_free it). */
gboolean source_streams_explain(const GError *error, gboolean decoded, enum psd_error *code, char **text);

#endif
