"""posestream model toolchain: convert, quantize, evaluate and benchmark YOLOv8-pose for OpenVINO."""

__version__ = "0.1.0"
