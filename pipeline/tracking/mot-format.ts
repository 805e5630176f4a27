/**
 * MOTChallenge text lines (`frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1`, frames 1-based): what the
 * track evaluation writes and the py-motmetrics scorer in models/ reads.
 */
import type { Box } from './box.js';

export interface MotBox {
  /** 1-based frame number. */
  frame: number;
  id: number;
  box: Box;
  score: number;
}

export function motLine({ frame, id, box, score }: MotBox): string {
  const round = (value: number) => Math.round(value * 100) / 100;
  return [frame, id, round(box[0]), round(box[1]), round(box[2] - box[0]), round(box[3] - box[1]), round(score), -1, -1, -1].join(',');
}

export function motText(boxes: readonly MotBox[]): string {
  return boxes.map(motLine).join('\n') + (boxes.length > 0 ? '\n' : '');
}
