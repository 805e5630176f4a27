#include "skip-nonref.h"

#include <gst/video/video.h>

#include "protocol.h"

/* Window of media time over which the decoded rate is checked while skipping. */
#define CHECK_WINDOW_NS (2 * GST_SECOND)
/* Skipping stops when the decoded rate falls under this share of the cap (room for timestamp jitter). */
#define CAP_SHARE 0.95

typedef struct {
  GMutex lock;
  double from_fps, cap_fps;
  GstVideoDecoder *decoder; /* the first libav video decoder seen (not owned) */
  gboolean wanted;          /* the source rate allows it (caps) */
  gboolean given_up;        /* the decoded rate fell under the cap: never again in this run */
  guint64 in, out;          /* buffers into and out of the decoder */
  guint64 gone_accounted;   /* in - out - pending, already attributed */
  guint64 skipped, skipped_taken;
  GstClockTime window_start;
  guint window_frames;
} NonRefSkip;

static NonRefSkip state = {.window_start = GST_CLOCK_TIME_NONE};

static gboolean skipping_locked(void) { return state.wanted && !state.given_up; }

static void note_caps(GstCaps *caps) {
  GstStructure *structure = gst_caps_get_size(caps) ? gst_caps_get_structure(caps, 0) : NULL;
  gint fps_n = 0, fps_d = 1;
  if (!structure || !gst_structure_get_fraction(structure, "framerate", &fps_n, &fps_d) || fps_d <= 0) fps_n = 0;
  /* An unknown rate (0/1, e.g. a stream without timing info) is not guessed: every frame is decoded. */
  state.wanted = fps_n > 0 && (double)fps_n / fps_d >= state.from_fps;
  state.window_start = GST_CLOCK_TIME_NONE;
}

/* Before each buffer: the trick-mode flag on the decoder's input segment says whether avdec skips non-reference
 * frames (see skip-nonref.h). Also the rate from the caps, and a flush (frames it discards are not skips). */
static GstPadProbeReturn on_decoder_input(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  GstVideoDecoder *decoder = user_data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    g_mutex_lock(&state.lock);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps = NULL;
      gst_event_parse_caps(event, &caps);
      note_caps(caps);
    } else if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
      state.gone_accounted = state.in - state.out;
      state.window_start = GST_CLOCK_TIME_NONE;
    }
    g_mutex_unlock(&state.lock);
    return GST_PAD_PROBE_OK;
  }
  g_mutex_lock(&state.lock);
  state.in += 1;
  gboolean skip = skipping_locked();
  g_mutex_unlock(&state.lock);
  GST_VIDEO_DECODER_STREAM_LOCK(decoder);
  GstSegment *segment = &GST_VIDEO_DECODER_INPUT_SEGMENT(decoder);
  if (skip) segment->flags |= GST_SEGMENT_FLAG_TRICKMODE;
  else segment->flags &= ~GST_SEGMENT_FLAG_TRICKMODE;
  GST_VIDEO_DECODER_STREAM_UNLOCK(decoder);
  return GST_PAD_PROBE_OK;
}

static guint pending_frames(GstVideoDecoder *decoder) {
  GList *frames = gst_video_decoder_get_frames(decoder);
  guint count = g_list_length(frames);
  g_list_free_full(frames, (GDestroyNotify)gst_video_codec_frame_unref);
  return count;
}

/* While skipping, each 2 s of media time must have decoded at least the cap's worth of frames. Returns the info
 * message to send (outside the lock: a write to the pipe may block) when skipping stops, else NULL. */
static char *check_decoded_rate_locked(GstClockTime pts) {
  if (!skipping_locked() || !GST_CLOCK_TIME_IS_VALID(pts)) return NULL;
  if (!GST_CLOCK_TIME_IS_VALID(state.window_start) || pts < state.window_start) {
    state.window_start = pts;
    state.window_frames = 1;
    return NULL;
  }
  GstClockTime span = pts - state.window_start;
  if (span < CHECK_WINDOW_NS) {
    state.window_frames += 1;
    return NULL;
  }
  double rate = state.window_frames / ((double)span / GST_SECOND);
  state.window_start = pts;
  state.window_frames = 1;
  if (rate >= state.cap_fps * CAP_SHARE) return NULL;
  state.given_up = TRUE;
  return g_strdup_printf("decoding every frame: without its non-reference frames the stream decodes %.1f fps, under the cap of %g fps", rate, state.cap_fps);
}

/* Each decoded frame: what the decoder let go since (in - out - pending) was skipped if skipping was on. */
static GstPadProbeReturn on_decoder_output(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  GstVideoDecoder *decoder = user_data;
  guint pending = pending_frames(decoder);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  g_mutex_lock(&state.lock);
  state.out += 1;
  guint64 held = state.out + pending;
  guint64 gone = state.in > held ? state.in - held : 0;
  if (gone > state.gone_accounted) {
    if (skipping_locked()) state.skipped += gone - state.gone_accounted;
    state.gone_accounted = gone;
  }
  char *gave_up = check_decoded_rate_locked(GST_BUFFER_PTS(buffer));
  g_mutex_unlock(&state.lock);
  if (gave_up) psd_send_info(gave_up);
  g_free(gave_up);
  return GST_PAD_PROBE_OK;
}

static gboolean is_libav_video_decoder(GstElement *element) {
  GstElementFactory *factory = gst_element_get_factory(element);
  return factory && GST_IS_VIDEO_DECODER(element) && g_str_has_prefix(GST_OBJECT_NAME(factory), "avdec_");
}

static void on_element_added(GstBin *bin, GstBin *sub_bin, GstElement *element, gpointer user_data) {
  if (!is_libav_video_decoder(element)) return;
  g_mutex_lock(&state.lock);
  gboolean first = state.decoder == NULL;
  if (first) state.decoder = GST_VIDEO_DECODER(element);
  g_mutex_unlock(&state.lock);
  if (!first) return;
  GstPad *sink = gst_element_get_static_pad(element, "sink");
  GstPad *src = gst_element_get_static_pad(element, "src");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_decoder_input, element, NULL);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_decoder_output, element, NULL);
  gst_object_unref(sink);
  gst_object_unref(src);
}

void skip_nonref_watch(GstBin *pipeline, double from_fps, double cap_fps) {
  g_mutex_init(&state.lock);
  state.from_fps = from_fps;
  state.cap_fps = cap_fps;
  g_signal_connect(pipeline, "deep-element-added", G_CALLBACK(on_element_added), NULL);
}

guint32 skip_nonref_take_skipped(void) {
  g_mutex_lock(&state.lock);
  guint64 fresh = state.skipped - state.skipped_taken;
  state.skipped_taken = state.skipped;
  g_mutex_unlock(&state.lock);
  return (guint32)fresh;
}
