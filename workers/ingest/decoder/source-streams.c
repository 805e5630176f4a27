#include "source-streams.h"

#include <string.h>

#include <gst/pbutils/pbutils.h>

/* Media types of the elementary streams decodebin or rtspsrc found, to tell "no video stream" from "no decoder"
 * when nothing could be decoded. Written on streaming threads, read on the bus thread: guarded by `lock`. */
typedef struct {
  GMutex lock;
  GString *video;  /* compressed video types, e.g. "video/x-h265" */
  GString *other;  /* audio, subtitles, ... */
  gboolean decodable; /* a decoder offered raw video */
} SourceStreams;

static SourceStreams streams;

static void add_type(GString *list, const char *media_type) {
  if (!strstr(list->str, media_type)) g_string_append_printf(list, "%s%s", list->len ? ", " : "", media_type);
}

/* decodebin asks whether to keep autoplugging each pad it finds; the caps say what the streams are. */
static gboolean on_autoplug_continue(GstElement *bin, GstPad *pad, GstCaps *caps, gpointer user_data) {
  if (gst_caps_get_size(caps) == 0) return TRUE;
  const char *media_type = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  gboolean raw_video = g_str_equal(media_type, "video/x-raw");
  /* Unfixed caps are what a candidate decoder would output, not a stream; only raw video matters there. */
  if (!raw_video && !gst_caps_is_fixed(caps)) return TRUE;
  GstPbUtilsCapsDescriptionFlags flags = raw_video ? 0 : gst_pb_utils_get_caps_description_flags(caps);
  g_mutex_lock(&streams.lock);
  if (raw_video) streams.decodable = TRUE;
  else if (flags & GST_PBUTILS_CAPS_DESCRIPTION_FLAG_CONTAINER) (void)0; /* holds streams, is none */
  else if (flags & (GST_PBUTILS_CAPS_DESCRIPTION_FLAG_VIDEO | GST_PBUTILS_CAPS_DESCRIPTION_FLAG_IMAGE))
    add_type(streams.video, media_type);
  else add_type(streams.other, media_type);
  g_mutex_unlock(&streams.lock);
  return TRUE;
}

/* rtspsrc adds one pad per SDP media: "video", "audio", "application". */
static void on_rtsp_pad_added(GstElement *source, GstPad *pad, gpointer user_data) {
  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, NULL);
  const char *media = gst_caps_get_size(caps) ? gst_structure_get_string(gst_caps_get_structure(caps, 0), "media") : NULL;
  if (media) {
    g_mutex_lock(&streams.lock);
    add_type(g_str_equal(media, "video") ? streams.video : streams.other, media);
    g_mutex_unlock(&streams.lock);
  }
  gst_caps_unref(caps);
}

static void watch_stream_types(const GValue *item, gpointer user_data) {
  GstElement *element = g_value_get_object(item);
  if (g_signal_lookup("autoplug-continue", G_OBJECT_TYPE(element)))
    g_signal_connect(element, "autoplug-continue", G_CALLBACK(on_autoplug_continue), NULL);
  GstElementFactory *factory = gst_element_get_factory(element);
  if (factory && g_str_equal(GST_OBJECT_NAME(factory), "rtspsrc"))
    g_signal_connect(element, "pad-added", G_CALLBACK(on_rtsp_pad_added), NULL);
}

/* Nothing decoded and only non-video streams found: a video-only decodebin calls that "missing a plug-in" (for
 * the audio it was not allowed to decode), rtspsrc "not-linked". Say what it is instead. */
gboolean source_streams_explain(const GError *error, gboolean decoded, enum psd_error *code, char **text) {
  if (decoded) return FALSE;
  gboolean missing_plugin = error->domain == GST_CORE_ERROR && error->code == GST_CORE_ERROR_MISSING_PLUGIN;
  gboolean classified = FALSE;
  g_mutex_lock(&streams.lock);
  if (!streams.decodable && streams.video->len == 0 && streams.other->len > 0) {
    *code = PSD_ERROR_NO_VIDEO;
    *text = g_strdup(streams.other->str);
    classified = TRUE;
  } else if (!streams.decodable && missing_plugin && streams.video->len > 0) {
    *code = PSD_ERROR_NO_DECODER;
    *text = g_strdup(streams.video->str);
    classified = TRUE;
  }
  g_mutex_unlock(&streams.lock);
  return classified;
}

void source_streams_watch(GstBin *pipeline) {
  gst_pb_utils_init();
  g_mutex_init(&streams.lock);
  streams.video = g_string_new(NULL);
  streams.other = g_string_new(NULL);
  GstIterator *elements = gst_bin_iterate_recurse(pipeline);
  gst_iterator_foreach(elements, watch_stream_types, NULL);
  gst_iterator_free(elements);
}
