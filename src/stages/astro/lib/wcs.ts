// World coordinates live in src/numeric/wcs.ts, so the report's image previews (src/observe) can draw
// RA/Dec grids with the same code; astro stages keep importing them from here.
export * from '../../../numeric/wcs.ts';
