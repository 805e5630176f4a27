import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderPreview } from '../../../gateway/annotate.js';
import { rgbToI420 } from '../../../pipeline/image/i420.js';
import { sampleMeta, sampleResult } from '../../support/wire-samples.js';

const WIDTH = 32;
const HEIGHT = 16;
const ORANGE: [number, number, number] = [230, 120, 30];

describe('renderPreview', () => {
  it('converts an I420 frame to RGB before encoding: the JPEG shows the frame colour', async () => {
    const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
    for (let i = 0; i < WIDTH * HEIGHT; i++) rgb.set(ORANGE, i * 3);
    const meta = { ...sampleMeta, width: WIDTH, height: HEIGHT, format: 'i420' as const };
    const pixels = Buffer.from(rgbToI420(rgb, WIDTH, HEIGHT));
    const rendered = await renderPreview({ result: { ...sampleResult, seq: meta.seq }, meta, pixels }, { plain: true, annotated: true }, 90);
    for (const variant of [rendered.plain!, rendered.annotated!]) {
      const { data, info } = await sharp(variant.jpeg).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([WIDTH, HEIGHT, 3]);
      for (let c = 0; c < 3; c++) expect(Math.abs(data[c]! - ORANGE[c]!), `channel ${c}`).toBeLessThanOrEqual(6);
    }
  });
});
