#ifndef POSESTREAM_DECODE_SKIP_NONREF_H
#define POSESTREAM_DECODE_SKIP_NONREF_H

#include <gst/gst.h>

/*
 * Skipping non-reference frames before decoding (live streams whose fps cap is well below the source rate): a frame
 * no other frame refers to (typically a B-frame) can be left undecoded without harming any other, and the cap
 * would have dropped most frames anyway, after paying for their decoding.
 *
 * How: gst-libav's "skip-frame" property cannot do it (its values 1 "Skip B-frames", 2 and 5 predate libavcodec's
 * AVDiscard numbering and reach AVCodecContext.skip_frame as values below AVDISCARD_NONREF = 8: they skip
 * nothing, checked with avdec_h264 1.22 on an H.264 clip with B-frames). What does work is the trick-mode path of
 * avdec_* (gstavviddec.c, do_qos): while the decoder's input segment has GST_SEGMENT_FLAG_TRICKMODE, each frame is
 * decoded with skip_frame = AVDISCARD_NONREF. So a probe on the decoder's sink pad sets that flag on its input
 * segment (a public field of GstVideoDecoder, under its stream lock) before every buffer, or clears it. The segment
 * sent downstream is untouched. Streams without non-reference frames (x264 -bf 0, most cameras) lose nothing.
 *
 * When: while the source rate (the decoder's negotiated input caps) is at least `from_fps` (ingest passes twice the
 * cap: workers/ingest/launch-string.ts), and as long as what is decoded still meets the cap: the decoded rate is
 * measured over each 2 s of media time while skipping, and under 95 % of the cap skipping stops for the rest of the
 * run (an info message says so). Only libav decoders (avdec_*); any other decoder decodes every frame.
 *
 * Counting: a skipped frame never leaves the decoder. Frames in - frames out - frames still pending in the decoder
 * is what it dropped; while skipping, that is what skipping dropped (a flush, e.g. a file's loop, is not counted).
 */

/* Watches the pipeline for its libav video decoder; call once before it plays. cap_fps: the fps cap (> 0). */
void skip_nonref_watch(GstBin *pipeline, double from_fps, double cap_fps);

/* Frames skipped since the last call (streaming thread, e.g. the appsink callback). */
guint32 skip_nonref_take_skipped(void);

#endif
