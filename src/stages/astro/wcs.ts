// World coordinates of FITS images (Greisen & Calabretta 2002, Calabretta & Greisen 2002): pixel →
// intermediate coordinates by CRPIX and CD (or PC × CDELT, or the old CROTA2) → native spherical
// (φ, θ) by the projection (TAN, SIN with slant, ZPN, CAR, CEA) → celestial by the rotation that
// puts the reference point at CRVAL (LONPOLE/LATPOLE as defaulted by Paper II). Angles in CUNIT
// arcsec are taken to degrees; results are degrees. Longitudes are wrapped as WCSLIB (and so
// astropy) wraps them: with the sign of the reference longitude CRVAL1, into [0, 360) or (−360, 0]
// — why a helioprojective image with CRVAL1 just below 0 gives −359.66 for +0.34.
const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export type HeaderValues = (keyword: string) => string | number | boolean | bigint | null | undefined;
type Projection = 'TAN' | 'SIN' | 'ZPN' | 'CAR' | 'CEA';
const projections: Projection[] = ['TAN', 'SIN', 'ZPN', 'CAR', 'CEA'];

const atan2d = (y: number, x: number) => Math.atan2(y, x) * R2D;
const sind = (a: number) => Math.sin(a * D2R);
const cosd = (a: number) => Math.cos(a * D2R);

export class Wcs {
  private readonly matrix: [number, number, number, number];
  private readonly inverse: [number, number, number, number];
  private readonly crpix: [number, number];
  private readonly pv: number[];
  /** Celestial coordinates of the native pole, and the native longitude of the celestial pole. */
  private readonly pole: { lng: number; lat: number; phi: number };

  private constructor(readonly projection: Projection, readonly ctype: [string, string], readonly cunit: [string, string], get: (k: string) => number | undefined, axes: [number, number]) {
    const [a, b] = axes;
    const scale = cunit.map((u) => (u.trim().toLowerCase() === 'arcsec' ? 1 / 3600 : 1));
    this.crpix = [get(`CRPIX${a}`) ?? 0, get(`CRPIX${b}`) ?? 0];
    const hasCd = [`CD${a}_${a}`, `CD${a}_${b}`, `CD${b}_${a}`, `CD${b}_${b}`].some((k) => get(k) !== undefined);
    if (hasCd) {
      this.matrix = [get(`CD${a}_${a}`) ?? 0, get(`CD${a}_${b}`) ?? 0, get(`CD${b}_${a}`) ?? 0, get(`CD${b}_${b}`) ?? 0];
    } else {
      const [c1, c2] = [get(`CDELT${a}`) ?? 1, get(`CDELT${b}`) ?? 1];
      const hasPc = [`PC${a}_${a}`, `PC${a}_${b}`, `PC${b}_${a}`, `PC${b}_${b}`].some((k) => get(k) !== undefined);
      const rho = get(`CROTA${b}`) ?? 0;
      const pc = hasPc ? [get(`PC${a}_${a}`) ?? 1, get(`PC${a}_${b}`) ?? 0, get(`PC${b}_${a}`) ?? 0, get(`PC${b}_${b}`) ?? 1]
        : [cosd(rho), -sind(rho) * (c2 / c1), sind(rho) * (c1 / c2), cosd(rho)];
      this.matrix = [c1 * pc[0], c1 * pc[1], c2 * pc[2], c2 * pc[3]];
    }
    this.matrix = [this.matrix[0] * scale[0], this.matrix[1] * scale[0], this.matrix[2] * scale[1], this.matrix[3] * scale[1]];
    const [m0, m1, m2, m3] = this.matrix;
    const det = m0 * m3 - m1 * m2;
    if (det === 0) throw new Error('the CD / PC matrix is singular');
    this.inverse = [m3 / det, -m1 / det, -m2 / det, m0 / det];
    this.pv = Array.from({ length: 21 }, (_, m) => get(`PV${b}_${m}`) ?? NaN);

    // Paper II §2.5: the fiducial point (φ0, θ0) is the pole for zenithal projections, the origin for cylindrical ones.
    const [lng0, lat0] = [(get(`CRVAL${a}`) ?? 0) * scale[0], (get(`CRVAL${b}`) ?? 0) * scale[1]];
    const zenithal = projection === 'TAN' || projection === 'SIN' || projection === 'ZPN';
    const [phi0, theta0] = zenithal ? [0, 90] : [0, 0];
    const phiP = get('LONPOLE') ?? (lat0 >= theta0 ? 0 : 180);
    const latpole = get('LATPOLE') ?? 90;
    let latP: number;
    if (theta0 === 90) latP = lat0;
    else {
      const base = atan2d(sind(theta0), cosd(theta0) * cosd(phiP - phi0));
      const spread = Math.acos(Math.max(-1, Math.min(1, sind(lat0) / Math.sqrt(1 - (cosd(theta0) * sind(phiP - phi0)) ** 2)))) * R2D;
      const candidates = [base + spread, base - spread].filter((d) => d >= -90 - 1e-9 && d <= 90 + 1e-9);
      latP = candidates.sort((x, y) => Math.abs(x - latpole) - Math.abs(y - latpole))[0] ?? latpole;
    }
    let lngP: number;
    if (Math.abs(latP) >= 90 - 1e-12) lngP = lng0 + (latP > 0 ? phiP - phi0 - 180 : phi0 - phiP);
    else if (theta0 === 90) lngP = lng0;
    else {
      lngP = lng0 - atan2d(sind(phiP - phi0) * cosd(theta0) / cosd(lat0), (sind(theta0) - sind(latP) * sind(lat0)) / (cosd(latP) * cosd(lat0)));
    }
    // As WCSLIB: the native pole's celestial longitude takes the sign of the reference point's.
    if (lng0 >= 0 ? lngP < 0 : lngP > 0) lngP += lng0 >= 0 ? 360 : -360;
    if (lngP > 360) lngP -= 360;
    else if (lngP < -360) lngP += 360;
    this.pole = { lng: lngP, lat: latP, phi: phiP };
  }

  /** The celestial WCS of a header: the first two axes whose CTYPE names a projection, or `axes`. */
  static fromHeader(get: HeaderValues, axes?: [number, number]): Wcs {
    const found = Wcs.fromHeaderIfAny(get, axes);
    if (!found) throw new Error('the header has no celestial axes (CTYPEn like RA---TAN)');
    return found;
  }

  /** As fromHeader, or undefined where no axis has a projection in its CTYPE. */
  static fromHeaderIfAny(get: HeaderValues, axes?: [number, number]): Wcs | undefined {
    const text = (k: string) => {
      const v = get(k);
      return typeof v === 'string' ? v : undefined;
    };
    const number = (k: string) => {
      const v = get(k);
      return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
    };
    const celestial: number[] = [];
    for (let i = 1; i <= 9; i++) if (/^.{4}-.{3}$/.test(text(`CTYPE${i}`)?.trim() ?? '')) celestial.push(i);
    const [a, b] = axes ?? [celestial[0], celestial[1]];
    if (a === undefined || b === undefined) return undefined;
    const ctype: [string, string] = [text(`CTYPE${a}`)!.trim(), text(`CTYPE${b}`)!.trim()];
    const code = ctype[0].slice(5, 8);
    if (!projections.includes(code as Projection)) throw new Error(`projection ${code} (${ctype[0]}) is not supported (${projections.join(', ')} are)`);
    const cunit: [string, string] = [text(`CUNIT${a}`)?.trim() || 'deg', text(`CUNIT${b}`)?.trim() || 'deg'];
    return new Wcs(code as Projection, ctype, cunit, number, [a, b]);
  }

  /** Zero-based pixel (x along NAXIS1) → world (longitude, latitude), degrees. */
  pixelToWorld(px: number, py: number): [number, number] {
    const dx = px + 1 - this.crpix[0];
    const dy = py + 1 - this.crpix[1];
    const x = this.matrix[0] * dx + this.matrix[1] * dy;
    const y = this.matrix[2] * dx + this.matrix[3] * dy;
    const [phi, theta] = this.toNative(x, y);
    return this.toCelestial(phi, theta);
  }

  worldToPixel(lng: number, lat: number): [number, number] {
    const { lng: lngP, lat: latP, phi: phiP } = this.pole;
    const dl = lng - lngP;
    let phi = phiP + atan2d(-cosd(lat) * sind(dl), sind(lat) * cosd(latP) - cosd(lat) * sind(latP) * cosd(dl));
    const theta = Math.asin(Math.max(-1, Math.min(1, sind(lat) * sind(latP) + cosd(lat) * cosd(latP) * cosd(dl)))) * R2D;
    phi = ((phi + 180) % 360 + 360) % 360 - 180;
    const [x, y] = this.fromNative(phi, theta);
    return [this.inverse[0] * x + this.inverse[1] * y + this.crpix[0] - 1, this.inverse[2] * x + this.inverse[3] * y + this.crpix[1] - 1];
  }

  pixelsToWorld(xy: Float64Array): Float64Array {
    const out = new Float64Array(xy.length);
    for (let i = 0; i < xy.length; i += 2) [out[i], out[i + 1]] = this.pixelToWorld(xy[i], xy[i + 1]);
    return out;
  }

  private pv2(m: number, fallback: number): number {
    return Number.isNaN(this.pv[m]) ? fallback : this.pv[m];
  }

  /** Intermediate world coordinates (degrees) → native (φ, θ). */
  private toNative(x: number, y: number): [number, number] {
    const r = Math.hypot(x, y);
    switch (this.projection) {
      case 'TAN': return [r === 0 ? 0 : atan2d(x, -y), atan2d(R2D, r)];
      case 'SIN': {
        const xi = this.pv2(1, 0);
        const eta = this.pv2(2, 0);
        const X = x * D2R;
        const Y = y * D2R;
        if (xi === 0 && eta === 0) return [r === 0 ? 0 : atan2d(X, -Y), Math.acos(Math.min(1, r * D2R)) * R2D];
        const a = xi * xi + eta * eta + 1;
        const b = xi * (X - xi) + eta * (Y - eta);
        const c = (X - xi) ** 2 + (Y - eta) ** 2 - 1;
        const sinTheta = (-b + Math.sqrt(Math.max(0, b * b - a * c))) / a;
        const z = 1 - sinTheta;
        return [atan2d(X - xi * z, -(Y - eta * z)), Math.asin(Math.max(-1, Math.min(1, sinTheta))) * R2D];
      }
      case 'ZPN': {
        // Solve Σ P_m u^m = R (radians) for u = π/2 − θ: bisection on the first rising stretch, then Newton.
        const target = r * D2R;
        const poly = (u: number) => this.pv.reduce((s, p, m) => s + (Number.isNaN(p) ? 0 : p * u ** m), 0);
        const slope = (u: number) => this.pv.reduce((s, p, m) => s + (Number.isNaN(p) || m === 0 ? 0 : m * p * u ** (m - 1)), 0);
        let lo = 0;
        let hi = Math.PI;
        for (let u = 0.01; u <= Math.PI; u += 0.01) if (poly(u) >= target || slope(u) <= 0) {
          hi = u;
          break;
        }
        for (let k = 0; k < 60; k++) {
          const mid = (lo + hi) / 2;
          if (poly(mid) < target) lo = mid;
          else hi = mid;
        }
        let u = (lo + hi) / 2;
        for (let k = 0; k < 5; k++) u -= (poly(u) - target) / slope(u);
        return [r === 0 ? 0 : atan2d(x, -y), 90 - u * R2D];
      }
      case 'CAR': return [x, y];
      case 'CEA': return [x, Math.asin(Math.max(-1, Math.min(1, this.pv2(1, 1) * y * D2R))) * R2D];
    }
  }

  /** Native (φ, θ) → intermediate world coordinates (degrees). */
  private fromNative(phi: number, theta: number): [number, number] {
    switch (this.projection) {
      case 'TAN': {
        const r = R2D * cosd(theta) / sind(theta);
        return [r * sind(phi), -r * cosd(phi)];
      }
      case 'SIN': {
        const xi = this.pv2(1, 0);
        const eta = this.pv2(2, 0);
        return [R2D * (cosd(theta) * sind(phi) + xi * (1 - sind(theta))), -R2D * (cosd(theta) * cosd(phi) - eta * (1 - sind(theta)))];
      }
      case 'ZPN': {
        const u = (90 - theta) * D2R;
        const r = R2D * this.pv.reduce((s, p, m) => s + (Number.isNaN(p) ? 0 : p * u ** m), 0);
        return [r * sind(phi), -r * cosd(phi)];
      }
      case 'CAR': return [phi, theta];
      case 'CEA': return [phi, R2D * sind(theta) / this.pv2(1, 1)];
    }
  }

  /** Native (φ, θ) → celestial (longitude, latitude), the longitude wrapped as WCSLIB does. */
  private toCelestial(phi: number, theta: number): [number, number] {
    const { lng: lngP, lat: latP, phi: phiP } = this.pole;
    const dphi = phi - phiP;
    let lng = lngP + atan2d(-cosd(theta) * sind(dphi), sind(theta) * cosd(latP) - cosd(theta) * sind(latP) * cosd(dphi));
    const lat = Math.asin(Math.max(-1, Math.min(1, sind(theta) * sind(latP) + cosd(theta) * cosd(latP) * cosd(dphi)))) * R2D;
    if (lngP >= 0) {
      if (lng < 0) lng += 360;
    } else if (lng > 0) lng -= 360;
    if (lng > 360) lng -= 360;
    if (lng < -360) lng += 360;
    if (lngP >= 0 && lng >= 360) lng -= 360;
    return [lng, lat];
  }
}
