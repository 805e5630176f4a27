#!/usr/bin/python3
"""RTSP server for tests and `bench capacity`: serves an H.264 Annex-B file in an endless loop at
rtsp://127.0.0.1:<port>/<mount>, and with --cameras N also at /cam0 ... /cam<N-1>, each its own pipeline (its own
clock phase, like independent cameras). Frames are paced in real time at --fps.

Run with Debian's /usr/bin/python3 (GI bindings for gst-rtsp-server live there). Prints "READY <port>" on stdout
once it accepts clients; exits on SIGTERM/SIGINT. Port 0 picks a free port.

Why multifilesrc on an Annex-B file instead of seeking an mp4: a GStreamer RTSP client stops after one pass when
the server seeks back ("NPT timeout"), while a looping byte stream looks like an endless live camera. The buffer
probe stamps PTS from DTS, otherwise every RTP timestamp is 0 and clients cannot pace or order frames.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def stamp_pts(_pad, info):
    buffer = info.get_buffer()
    if buffer is not None and buffer.pts == Gst.CLOCK_TIME_NONE and buffer.dts != Gst.CLOCK_TIME_NONE:
        buffer.pts = buffer.dts
    return Gst.PadProbeReturn.OK


def on_media_configure(_factory, media):
    pay = media.get_element().get_by_name("pay0")
    pay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, stamp_pts)


def make_factory(h264, fps):
    factory = GstRtspServer.RTSPMediaFactory()
    location = h264.replace('"', '\\"')
    factory.set_launch(
        f'( multifilesrc location="{location}" loop=true '
        f'caps="video/x-h264,stream-format=byte-stream,framerate={fps}/1" ! h264parse ! '
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    factory.connect("media-configure", on_media_configure)
    return factory


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--h264", required=True, help="H.264 Annex-B elementary stream file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mount", default="/stream")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--cameras", type=int, default=0, help="also serve /cam0 ... /cam<N-1>, one pipeline each")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for mount in [args.mount] + [f"/cam{i}" for i in range(args.cameras)]:
        mounts.add_factory(mount, make_factory(args.h264, args.fps))
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
