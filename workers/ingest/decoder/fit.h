#ifndef POSESTREAM_DECODE_FIT_H
#define POSESTREAM_DECODE_FIT_H

/*
 * The size a source is scaled to so that it fits inside size x size, aspect kept, with Ultralytics' rounding.
 * A port of fitInside() in pipeline/pose/letterbox.ts, operation for operation (the same IEEE doubles give the
 * same result); test/integration/ingest-decoder.test.ts compares the two over many sizes.
 */
void fit_inside(int source_width, int source_height, int size, int *width, int *height);

#endif
