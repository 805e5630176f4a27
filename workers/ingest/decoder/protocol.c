#include "protocol.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static int output_fd = 1;
/* Frames come from the writer thread, usage errors from main before it starts: one message at a time. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

void psd_set_output(int fd) { output_fd = fd; }

static void put_u32(uint8_t *at, uint32_t value) {
  for (int i = 0; i < 4; i++) at[i] = (uint8_t)(value >> (8 * i));
}

static void put_i64(uint8_t *at, int64_t value) {
  uint64_t bits = (uint64_t)value;
  for (int i = 0; i < 8; i++) at[i] = (uint8_t)(bits >> (8 * i));
}

static void put_header(uint8_t *at, enum psd_type type, size_t length) {
  memcpy(at, "PSD", 3);
  at[3] = PSD_VERSION;
  at[4] = (uint8_t)type;
  at[5] = at[6] = at[7] = 0;
  put_u32(at + 8, (uint32_t)length);
}

/* The reader is gone (ingest closed the pipe or died): nothing left to do but leave quietly. */
static void write_all(const uint8_t *data, size_t length) {
  while (length > 0) {
    ssize_t written = write(output_fd, data, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      _exit(0);
    }
    data += written;
    length -= (size_t)written;
  }
}

static void send_parts(enum psd_type type, const uint8_t *prefix, size_t prefix_length, const char *text) {
  size_t text_length = text ? strlen(text) : 0;
  uint8_t header[PSD_HEADER_SIZE];
  put_header(header, type, prefix_length + text_length);
  pthread_mutex_lock(&output_lock);
  write_all(header, sizeof header);
  if (prefix_length) write_all(prefix, prefix_length);
  if (text_length) write_all((const uint8_t *)text, text_length);
  pthread_mutex_unlock(&output_lock);
}

size_t psd_frame_pixels_offset(void) { return PSD_HEADER_SIZE + PSD_FRAME_HEADER_SIZE; }

void psd_send_frame(uint8_t *message, const struct psd_frame_info *info, size_t pixel_bytes) {
  put_header(message, PSD_FRAME, PSD_FRAME_HEADER_SIZE + pixel_bytes);
  uint8_t *frame = message + PSD_HEADER_SIZE;
  put_u32(frame + 0, info->width);
  put_u32(frame + 4, info->height);
  put_u32(frame + 8, info->source_width);
  put_u32(frame + 12, info->source_height);
  put_u32(frame + 16, info->format);
  put_u32(frame + 20, info->cap_drops);
  put_u32(frame + 24, info->behind_drops);
  put_u32(frame + 28, info->skip_drops);
  put_i64(frame + 32, info->pts_ns);
  pthread_mutex_lock(&output_lock);
  write_all(message, psd_frame_pixels_offset() + pixel_bytes);
  pthread_mutex_unlock(&output_lock);
}

void psd_send_eos(void) { send_parts(PSD_EOS, NULL, 0, NULL); }

void psd_send_error(enum psd_error code, const char *text) {
  uint8_t prefix[4];
  put_u32(prefix, (uint32_t)code);
  send_parts(PSD_ERROR, prefix, sizeof prefix, text);
}

void psd_send_info(const char *text) { send_parts(PSD_INFO, NULL, 0, text); }
