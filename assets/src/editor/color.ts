// Colour helpers shared by remote cursors and the participant list. Colours arrive from
// other users, so anything that is not a plain hex colour is replaced before it reaches
// a style property.

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Colours used when a peer's own colour is unusable, picked by peer id. */
const FALLBACK_COLORS = ["#1971c2", "#c92a2a", "#0b7285", "#7048e8", "#f08c00", "#2b7a3b"];

/** True for `#rgb` and `#rrggbb` colours, the only form Pairline stores and draws. */
export function isHexColor(value: string): boolean {
  return HEX_COLOR.test(value);
}

/** `color` if it is a hex colour, else a stable fallback chosen from `seed` (a peer id). */
export function safeColor(color: string, seed: number): string {
  if (isHexColor(color)) return color.toLowerCase();
  const index = Math.abs(Math.trunc(seed)) % FALLBACK_COLORS.length;
  return FALLBACK_COLORS[index] ?? "#1971c2";
}

/** The text colour (near-black or white) that reads best on a `background` hex colour. */
export function readableTextOn(background: string): string {
  const luminance = relativeLuminance(background);
  // Contrast against white is 1.05 / (L + 0.05); against #1d2126 it is (L + 0.05) / 0.0649.
  const onWhite = 1.05 / (luminance + 0.05);
  const onDark = (luminance + 0.05) / 0.0649;
  return onWhite >= onDark ? "#ffffff" : "#1d2126";
}

function relativeLuminance(hex: string): number {
  const digits = expandHex(hex);
  const channels = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

function expandHex(hex: string): string {
  if (!isHexColor(hex)) return "000000";
  const digits = hex.slice(1);
  return digits.length === 3 ? [...digits].map((d) => d + d).join("") : digits;
}
