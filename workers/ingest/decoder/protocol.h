/*
 * The pipe protocol from posestream-decode to ingest. workers/ingest/decoder-protocol.ts is its reader; the two
 * must change together (bump PSD_VERSION when the layout changes). All integers little-endian.
 *
 * Every message: a 12-byte header, then `length` payload bytes.
 *    0  3 bytes  magic "PSD"
 *    3  u8       version (PSD_VERSION)
 *    4  u8       type (enum psd_type)
 *    5  3 bytes  zero
 *    8  u32      payload length
 *
 * PSD_FRAME payload: a 40-byte frame header, then the pixels, rows packed without padding.
 *    0  u32  width      fitted size: what the pixels are
 *    4  u32  height
 *    8  u32  source width   the decoded frame before scaling (keypoints are reported in these pixels)
 *   12  u32  source height
 *   16  u32  format (enum psd_format): RGB = 3 bytes per pixel; I420 = Y plane, then U, then V, chroma planes
 *            ceil(w/2) x ceil(h/2); always video range (16-235), see frame-convert.c for the matrix
 *   20  u32  frames the fps cap dropped since the previous frame message
 *   24  u32  decoded frames dropped since the previous frame message because ingest was behind (live mode only:
 *            a newer frame replaced one that was not converted yet)
 *   28  u32  frames the decoder skipped (left undecoded: non-reference frames under an fps cap, skip-nonref.h)
 *            since the previous frame message; zero from decoders before this field (same version: it was zero)
 *   32  i64  media time of the frame in ns (stream time; keeps increasing across loops of a file), -1 if unknown
 * PSD_EOS payload: empty. The end of a file (never sent while looping); the process exits 0 after it.
 * PSD_ERROR payload: u32 code (enum psd_error), then UTF-8 text; the process exits 1 after it.
 * PSD_INFO payload: UTF-8 text worth a log line (e.g. the source size changed).
 *
 * From ingest to the decoder, on stdin (a pipe): in live mode each byte asks for one frame (any value; ingest sends
 * one when it is ready for the next frame), so the frame converted and sent is the newest one at that moment.
 * Lossless mode ignores the bytes: the pipe's back-pressure paces it. The end of stdin stops the decoder.
 */
#ifndef POSESTREAM_DECODE_PROTOCOL_H
#define POSESTREAM_DECODE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define PSD_VERSION 1
#define PSD_HEADER_SIZE 12
#define PSD_FRAME_HEADER_SIZE 40

enum psd_type { PSD_FRAME = 1, PSD_EOS = 2, PSD_ERROR = 3, PSD_INFO = 4 };
enum psd_format { PSD_FORMAT_RGB = 1, PSD_FORMAT_I420 = 2 };

enum psd_error {
  /* GStreamer's own error: "<message> (<element>)" */
  PSD_ERROR_GSTREAMER = 1,
  /* The source has streams, none of them video; text: their media types ("audio/mpeg") */
  PSD_ERROR_NO_VIDEO = 2,
  /* A video stream without a decoder in this GStreamer installation; text: its media type ("video/x-h265") */
  PSD_ERROR_NO_DECODER = 3,
  /* Bad arguments or launch string; text says which */
  PSD_ERROR_USAGE = 4,
};

struct psd_frame_info {
  uint32_t width, height, source_width, source_height, format, cap_drops, behind_drops, skip_drops;
  int64_t pts_ns;
};

/* The pipe all messages go to (a private duplicate of stdout; see posestream-decode.c). */
void psd_set_output(int fd);

/* Writes header + frame header in front of the pixels: `message` must have PSD_HEADER_SIZE +
 * PSD_FRAME_HEADER_SIZE bytes free before the pixels, which start at message + psd_frame_pixels_offset(). */
void psd_send_frame(uint8_t *message, const struct psd_frame_info *info, size_t pixel_bytes);
size_t psd_frame_pixels_offset(void);

void psd_send_eos(void);
void psd_send_error(enum psd_error code, const char *text);
void psd_send_info(const char *text);

#endif
