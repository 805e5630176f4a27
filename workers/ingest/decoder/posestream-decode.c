/*
 * posestream-decode: one stream's decoder, as a child process of ingest (workers/ingest/decoder-source.ts).
 *
 *   posestream-decode --pipeline LAUNCH [--size 640] [--format rgb|i420] [--mode live|lossless] [--loop]
 *                     [--start-after-ns N] [--skip-nonref-from-fps F]
 *   posestream-decode --fit WxH [--fit WxH ...] [--size 640]     prints the fitted sizes (for tests)
 *
 * LAUNCH is a gst-launch description ending in `appsink name=sink` (optionally with a `videorate name=ratecap`
 * fps cap before it); workers/ingest/launch-string.ts builds it. Frames, the end of a file and errors go to stdout
 * in the protocol of protocol.h. Why a process per stream rather than GStreamer inside Node: whatever GStreamer
 * keeps per pipeline dies with the process (a camera reconnecting for a month costs ingest nothing), no libuv
 * thread is held per stream, and C can see caps per frame.
 *
 * Threads: GStreamer's streaming thread hands each decoded frame to `slot` (new_sample). In live mode a newer
 * frame replaces one still waiting there, so stale frames are dropped before any colour conversion; in lossless
 * mode the streaming thread waits until the slot is free, so back-pressure reaches the source. The writer thread
 * takes the frame, converts and scales it to the size fitted to its own caps, and writes it to the pipe. Lossless:
 * as soon as the previous frame is written (the pipe blocks while ingest does not read, one frame ahead at most).
 * Live: only when ingest asked for a frame (a byte on stdin), so the frame it gets is the newest decoded one, not
 * one converted while ingest was busy. Without a pipe on stdin (a manual run) every frame is sent. The main
 * thread runs the bus: errors (explained by source-streams.c when nothing was decoded) and the end of file (a
 * seek back to 0 to loop).
 *
 * Resuming (--start-after-ns N, files): only frames whose media time is after N are delivered, so a restarted
 * stream continues exactly after the last frame Redis accepted (ingest's record). Exactness comes from dropping
 * decoded frames by media time (and never one at or before a frame already delivered); speed from one accurate seek
 * to N once the pipeline has prerolled (within the first pass of the file; later passes of a looping
 * file are decoded and dropped).
 *
 * Skipping (--skip-nonref-from-fps F, with an fps cap): while the source rate is at least F fps, the libav decoder
 * leaves non-reference frames undecoded, as long as what it decodes still meets the cap (skip-nonref.h).
 *
 * Lifetime: the process dies with its parent (PR_SET_PDEATHSIG) and exits when stdin (a pipe from ingest) closes
 * or stdout breaks; SIGTERM stops the pipeline first so that an RTSP camera gets its TEARDOWN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "fit.h"
#include "frame-writer.h"
#include "protocol.h"
#include "skip-nonref.h"
#include "source-streams.h"

typedef struct {
  const char *launch;
  int size;
  GstVideoFormat format;
  gboolean lossless;
  gboolean loop;
  gint64 start_after_ns; /* -1: deliver every frame */
  double skip_nonref_from_fps; /* 0: decode every frame */
} Options;

/* What the streaming thread hands to the writer thread, and the end of the run. Guarded by `lock`. */
typedef struct {
  GMutex lock;
  GCond changed;
  GstSample *sample;
  gint64 sample_pts_ns;
  guint32 cap_drops;    /* since the last frame message */
  guint32 behind_drops; /* since the last frame message */
  guint32 skip_drops;   /* since the last frame message: non-reference frames left undecoded */
  gboolean stopping;    /* SIGTERM: the streaming thread must not wait any more */
  gboolean on_request;  /* live mode: a frame is converted and sent only when ingest asked for one */
  guint requests;       /* frames ingest asked for (one byte each on stdin) and has not received yet */
  enum psd_type terminal; /* 0, PSD_EOS or PSD_ERROR: sent after the frame in the slot, then the process exits */
  enum psd_error error_code;
  char *error_text;
} Slot;

/* Media time: stream time of each frame, plus the length of every earlier pass of a looping file. */
typedef struct {
  gint64 loop_offset_ns;
  gint64 pass_end_ns;
  gint64 last_ns;
  gint64 last_gap_ns;
} MediaClock;

static Options options = {.size = 640, .format = GST_VIDEO_FORMAT_RGB, .start_after_ns = -1};
/* Resuming: frames at or before this media time are dropped (streaming thread only); grows with each frame passed on,
 * so a seek that lands before frames already delivered cannot deliver them twice. */
static gint64 resume_after_ns = -1;
static gboolean resume_seek_done;
static Slot slot;
static MediaClock media_clock = {.last_ns = -1};
static GstElement *pipeline;
static GstElement *rate_cap;
static guint64 rate_cap_dropped;
static gint video_seen; /* atomic: a decoded frame reached the sink */

static void usage_error(const char *text) {
  fprintf(stderr, "posestream-decode: %s\n", text);
  psd_send_error(PSD_ERROR_USAGE, text);
  exit(2);
}

/* ---- streaming thread ------------------------------------------------------------------------------------ */

static gint64 media_time_ns(GstSample *sample) {
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  const GstSegment *segment = gst_sample_get_segment(sample);
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts) || !segment) return -1;
  guint64 stream_time = gst_segment_to_stream_time(segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID(stream_time)) return -1;
  gint64 at = (gint64)stream_time;
  if (media_clock.last_ns >= 0 && at > media_clock.last_ns) media_clock.last_gap_ns = at - media_clock.last_ns;
  media_clock.last_ns = at;
  GstClockTime duration = GST_BUFFER_DURATION(buffer);
  gint64 end = at + (GST_CLOCK_TIME_IS_VALID(duration) ? (gint64)duration : media_clock.last_gap_ns);
  if (end > media_clock.pass_end_ns) media_clock.pass_end_ns = end;
  return media_clock.loop_offset_ns + at;
}

/* videorate counts what it passed on; in - out is what the cap discarded (its "drop" stays 0 for max-rate). */
static guint32 take_cap_drops(void) {
  if (!rate_cap) return 0;
  guint64 in = 0, out = 0;
  g_object_get(rate_cap, "in", &in, "out", &out, NULL);
  guint64 dropped = in > out ? in - out : 0;
  guint64 fresh = dropped > rate_cap_dropped ? dropped - rate_cap_dropped : 0;
  rate_cap_dropped += fresh;
  return (guint32)fresh;
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer user_data) {
  (void)user_data;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_EOS;
  g_atomic_int_set(&video_seen, 1);
  gint64 pts_ns = media_time_ns(sample);
  guint32 cap_drops = take_cap_drops();
  guint32 skip_drops = skip_nonref_take_skipped();
  if (resume_after_ns >= 0) {
    if (pts_ns >= 0 && pts_ns <= resume_after_ns) {
      gst_sample_unref(sample);
      return GST_FLOW_OK; /* already in Redis before this run */
    }
    if (pts_ns >= 0) resume_after_ns = pts_ns;
  }

  g_mutex_lock(&slot.lock);
  while (options.lossless && slot.sample && !slot.stopping) g_cond_wait(&slot.changed, &slot.lock);
  if (slot.stopping) {
    g_mutex_unlock(&slot.lock);
    gst_sample_unref(sample);
    return GST_FLOW_FLUSHING;
  }
  if (slot.sample) {
    gst_sample_unref(slot.sample);
    slot.behind_drops += 1;
  }
  slot.sample = sample;
  slot.sample_pts_ns = pts_ns;
  slot.cap_drops += cap_drops;
  slot.skip_drops += skip_drops;
  g_cond_broadcast(&slot.changed);
  g_mutex_unlock(&slot.lock);
  return GST_FLOW_OK;
}

/* ---- writer thread --------------------------------------------------------------------------------------- */

static gpointer writer_main(gpointer user_data) {
  (void)user_data;
  FrameWriter writer = {.size = options.size, .format = options.format};
  for (;;) {
    g_mutex_lock(&slot.lock);
    for (;;) {
      if (slot.sample && (!slot.on_request || slot.requests > 0)) break;
      if (slot.terminal && !slot.sample) break;
      g_cond_wait(&slot.changed, &slot.lock);
    }
    if (!slot.sample) break; /* terminal, and every frame before it is out */
    if (slot.on_request) slot.requests -= 1;
    GstSample *sample = slot.sample;
    gint64 pts_ns = slot.sample_pts_ns;
    FrameDrops drops = {.cap = slot.cap_drops, .behind = slot.behind_drops, .skipped = slot.skip_drops};
    slot.sample = NULL;
    slot.cap_drops = slot.behind_drops = slot.skip_drops = 0;
    g_cond_broadcast(&slot.changed);
    g_mutex_unlock(&slot.lock);

    gboolean sent = frame_writer_send(&writer, sample, pts_ns, &drops);
    gst_sample_unref(sample);
    if (!sent) {
      psd_send_error(PSD_ERROR_GSTREAMER, "cannot convert the decoded frame to the model input");
      _exit(1);
    }
  }
  enum psd_type terminal = slot.terminal;
  if (terminal == PSD_EOS) psd_send_eos();
  else psd_send_error(slot.error_code, slot.error_text);
  _exit(terminal == PSD_EOS ? 0 : 1);
  return NULL;
}

/* ---- main thread: bus, signals, stdin -------------------------------------------------------------------- */

static void finish(enum psd_type terminal, enum psd_error code, const char *text) {
  g_mutex_lock(&slot.lock);
  if (!slot.terminal) {
    slot.terminal = terminal;
    slot.error_code = code;
    slot.error_text = g_strdup(text);
    g_cond_broadcast(&slot.changed);
  }
  g_mutex_unlock(&slot.lock);
}

static void report_error(GstMessage *message) {
  GError *error = NULL;
  char *debug = NULL;
  gst_message_parse_error(message, &error, &debug);
  fprintf(stderr, "posestream-decode: %s (%s)\n%s\n", error->message, GST_OBJECT_NAME(message->src), debug ? debug : "");
  enum psd_error code = PSD_ERROR_GSTREAMER;
  char *text = NULL;
  if (!source_streams_explain(error, g_atomic_int_get(&video_seen), &code, &text)) {
    gsize length = strlen(error->message);
    if (length && error->message[length - 1] == '.') error->message[length - 1] = '\0';
    text = g_strdup_printf("%s (%s)", error->message, GST_OBJECT_NAME(message->src));
  }
  finish(PSD_ERROR, code, text);
  g_free(text);
  g_clear_error(&error);
  g_free(debug);
}

/* End of a looping file: back to the start in this pipeline (a flushing seek), media time carrying on. */
static void rewind_to_start(void) {
  media_clock.loop_offset_ns += media_clock.pass_end_ns;
  media_clock.pass_end_ns = 0;
  media_clock.last_ns = -1;
  if (!gst_element_seek_simple(pipeline, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, 0)) {
    finish(PSD_ERROR, PSD_ERROR_GSTREAMER, "cannot seek back to the start of the file to loop it");
  }
}

/* Resuming into a file: one accurate seek to the position (decoding restarts at the key frame before it; what
 * precedes the position is dropped, not synced, so a live-paced file resumes at once). Only within the first pass,
 * whose media time is the file's own. */
static void seek_to_resume_position(void) {
  if (resume_seek_done || options.start_after_ns <= 0) return;
  resume_seek_done = TRUE;
  gint64 duration = -1;
  if (options.loop && (!gst_element_query_duration(pipeline, GST_FORMAT_TIME, &duration) || options.start_after_ns >= duration)) return;
  if (!gst_element_seek_simple(pipeline, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                               options.start_after_ns))
    fprintf(stderr, "posestream-decode: cannot seek to the resume position; decoding from the start and dropping\n");
}

static gboolean on_bus_message(GstBus *bus, GstMessage *message, gpointer user_data) {
  (void)bus;
  (void)user_data;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ASYNC_DONE:
      if (GST_MESSAGE_SRC(message) == GST_OBJECT(pipeline)) seek_to_resume_position();
      break;
    case GST_MESSAGE_ERROR:
      report_error(message);
      break;
    case GST_MESSAGE_EOS:
      if (options.loop) rewind_to_start();
      else finish(PSD_EOS, 0, NULL);
      break;
    case GST_MESSAGE_WARNING: {
      GError *error = NULL;
      gst_message_parse_warning(message, &error, NULL);
      fprintf(stderr, "posestream-decode: warning: %s (%s)\n", error->message, GST_OBJECT_NAME(message->src));
      g_clear_error(&error);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Orderly stop: release a streaming thread waiting for the slot, take the pipeline down (RTSP TEARDOWN), exit.
 * A pipeline that does not stop within 2 s is cut off by SIGALRM's default action. */
static gboolean on_terminate(gpointer user_data) {
  (void)user_data;
  g_mutex_lock(&slot.lock);
  slot.stopping = TRUE;
  g_cond_broadcast(&slot.changed);
  g_mutex_unlock(&slot.lock);
  alarm(2);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  _exit(0);
  return G_SOURCE_REMOVE;
}

/* Each byte from ingest asks for one frame; the end of stdin means ingest is gone. */
static gboolean on_stdin(gint fd, GIOCondition condition, gpointer user_data) {
  char buffer[256];
  ssize_t got = (condition & G_IO_IN) ? read(fd, buffer, sizeof buffer) : 0;
  if (got > 0) {
    g_mutex_lock(&slot.lock);
    slot.requests += (guint)got;
    g_cond_broadcast(&slot.changed);
    g_mutex_unlock(&slot.lock);
    return G_SOURCE_CONTINUE;
  }
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return G_SOURCE_CONTINUE;
  return on_terminate(user_data);
}

/* ---- setup ----------------------------------------------------------------------------------------------- */

/* --fit WxH: the size fit_inside() gives, one line per argument (test/integration/ingest-decoder.test.ts). */
static void print_fitted_sizes(GPtrArray *sizes) {
  for (guint i = 0; i < sizes->len; i++) {
    int source_width, source_height, width, height;
    if (sscanf(g_ptr_array_index(sizes, i), "%dx%d", &source_width, &source_height) != 2 || source_width < 1 ||
        source_height < 1)
      usage_error("--fit takes WIDTHxHEIGHT");
    fit_inside(source_width, source_height, options.size, &width, &height);
    printf("%dx%d\n", width, height);
  }
}

static void parse_options(int argc, char **argv) {
  static const struct option long_options[] = {
      {"pipeline", required_argument, NULL, 'p'}, {"size", required_argument, NULL, 's'},
      {"format", required_argument, NULL, 'f'},   {"mode", required_argument, NULL, 'm'},
      {"loop", no_argument, NULL, 'l'},           {"fit", required_argument, NULL, 'F'},
      {"start-after-ns", required_argument, NULL, 'S'}, {"skip-nonref-from-fps", required_argument, NULL, 'K'},
      {NULL, 0, NULL, 0},
  };
  GPtrArray *fit_sizes = g_ptr_array_new();
  int option;
  while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    switch (option) {
      case 'p': options.launch = optarg; break;
      case 's':
        options.size = atoi(optarg);
        if (options.size < 1 || options.size > 16384) usage_error("--size must be 1..16384");
        break;
      case 'f':
        if (strcmp(optarg, "rgb") == 0) options.format = GST_VIDEO_FORMAT_RGB;
        else if (strcmp(optarg, "i420") == 0) options.format = GST_VIDEO_FORMAT_I420;
        else usage_error("--format must be rgb or i420");
        break;
      case 'm':
        if (strcmp(optarg, "live") != 0 && strcmp(optarg, "lossless") != 0) usage_error("--mode must be live or lossless");
        options.lossless = strcmp(optarg, "lossless") == 0;
        break;
      case 'l': options.loop = TRUE; break;
      case 'S': {
        char *end = NULL;
        options.start_after_ns = g_ascii_strtoll(optarg, &end, 10);
        if (!end || *end || options.start_after_ns < 0) usage_error("--start-after-ns takes a media time in ns (0 or more)");
        break;
      }
      case 'K': {
        char *end = NULL;
        options.skip_nonref_from_fps = g_ascii_strtod(optarg, &end);
        if (!end || *end || !(options.skip_nonref_from_fps > 0)) usage_error("--skip-nonref-from-fps takes a frame rate (more than 0)");
        break;
      }
      case 'F': g_ptr_array_add(fit_sizes, optarg); break;
      default: usage_error("usage: posestream-decode --pipeline LAUNCH [--size N] [--format rgb|i420] [--mode live|lossless] [--loop] [--start-after-ns N] [--skip-nonref-from-fps F]");
    }
  }
  if (fit_sizes->len > 0) {
    print_fitted_sizes(fit_sizes);
    exit(0);
  }
  g_ptr_array_free(fit_sizes, TRUE);
  if (!options.launch) usage_error("--pipeline is required");
  resume_after_ns = options.start_after_ns;
}

static void build_pipeline(void) {
  GError *error = NULL;
  pipeline = gst_parse_launch(options.launch, &error);
  if (!pipeline || error) {
    char *text = g_strdup_printf("invalid pipeline: %s", error ? error->message : "unknown error");
    usage_error(text);
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  if (!sink || !GST_IS_APP_SINK(sink)) usage_error("invalid pipeline: no appsink named \"sink\"");
  GstAppSinkCallbacks callbacks = {.new_sample = on_new_sample};
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, NULL, NULL);
  gst_object_unref(sink);
  rate_cap = gst_bin_get_by_name(GST_BIN(pipeline), "ratecap");
  source_streams_watch(GST_BIN(pipeline));
  if (options.skip_nonref_from_fps > 0) {
    /* Only under a cap: what is decoded must still meet it. */
    if (!rate_cap) usage_error("--skip-nonref-from-fps needs an fps cap (videorate name=ratecap)");
    int max_rate = 0;
    g_object_get(rate_cap, "max-rate", &max_rate, NULL);
    skip_nonref_watch(GST_BIN(pipeline), options.skip_nonref_from_fps, max_rate);
  }
}

/* Only the frame protocol may reach the pipe: stdout moves to a private descriptor and fd 1 becomes stderr, so a
 * library printing to stdout cannot corrupt a frame. */
static void take_stdout(void) {
  int fd = dup(STDOUT_FILENO);
  if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    perror("posestream-decode: dup");
    exit(2);
  }
  psd_set_output(fd);
}

static gboolean stdin_is_pipe(void) {
  struct stat info;
  return fstat(STDIN_FILENO, &info) == 0 && (S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode));
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 0; /* the parent died before the line above */
  signal(SIGPIPE, SIG_IGN);

  parse_options(argc, argv); /* --fit prints and exits here, before GStreamer starts */
  take_stdout();
  gst_init(NULL, NULL);
  g_mutex_init(&slot.lock);
  g_cond_init(&slot.changed);
  build_pipeline();

  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_add_watch(bus, on_bus_message, NULL);
  gst_object_unref(bus);
  g_unix_signal_add(SIGTERM, on_terminate, NULL);
  g_unix_signal_add(SIGINT, on_terminate, NULL);
  if (stdin_is_pipe()) {
    slot.on_request = !options.lossless;
    g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
  }
  g_thread_new("writer", writer_main, NULL);
  /* A failure to start shows up as a bus error, handled like any other. */
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  g_main_loop_run(loop);
  return 0;
}
