#include "fit.h"

#include <math.h>

/* Python's round(): halves go to the even neighbour (roundHalfEven in letterbox.ts). */
static double round_half_even(double value) {
  double floor_value = floor(value);
  double fraction = value - floor_value;
  if (fraction > 0.5) return floor_value + 1;
  if (fraction < 0.5) return floor_value;
  return fmod(floor_value, 2.0) == 0 ? floor_value : floor_value + 1;
}

static int clamp_side(double value, int size) {
  if (value < 1) value = 1;
  if (value > size) value = size;
  return (int)value;
}

void fit_inside(int source_width, int source_height, int size, int *width, int *height) {
  /* Same expression and operand order as Python's min(size / h, size / w). */
  double by_height = (double)size / source_height;
  double by_width = (double)size / source_width;
  double scale = by_height < by_width ? by_height : by_width;
  *width = clamp_side(round_half_even(source_width * scale), size);
  *height = clamp_side(round_half_even(source_height * scale), size);
}
