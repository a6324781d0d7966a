/**
 * A handoff link as a QR code: SVG markup drawn here by `qrcode` (docs/reference/dependencies.md)
 * and inserted by the page, so no image comes from another origin and none is a `data:` URL.
 * The markup is paths only: no script, no style attribute.
 */
import QRCode from 'qrcode';

export function qrSvg(text: string): Promise<string> {
  // M (15 % recovery) keeps a ~100-character link small enough for a phone's camera at a glance.
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
