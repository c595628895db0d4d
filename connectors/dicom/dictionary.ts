// The DICOM attributes quiver reads by name (PS3.6): tag and value representation. An implicit-VR
// file does not say what its values are; for these the dictionary does (others stay 'UN', bytes).
export const tags = {
  TransferSyntaxUID: [0x0002_0010, 'UI'],
  SOPClassUID: [0x0008_0016, 'UI'],
  SOPInstanceUID: [0x0008_0018, 'UI'],
  StudyDate: [0x0008_0020, 'DA'],
  Modality: [0x0008_0060, 'CS'],
  Manufacturer: [0x0008_0070, 'LO'],
  PatientName: [0x0010_0010, 'PN'],
  PatientID: [0x0010_0020, 'LO'],
  PatientBirthDate: [0x0010_0030, 'DA'],
  PatientSex: [0x0010_0040, 'CS'],
  SliceThickness: [0x0018_0050, 'DS'],
  SpacingBetweenSlices: [0x0018_0088, 'DS'],
  GantryDetectorTilt: [0x0018_1120, 'DS'],
  StudyInstanceUID: [0x0020_000d, 'UI'],
  SeriesInstanceUID: [0x0020_000e, 'UI'],
  SeriesNumber: [0x0020_0011, 'IS'],
  InstanceNumber: [0x0020_0013, 'IS'],
  ImagePositionPatient: [0x0020_0032, 'DS'],
  ImageOrientationPatient: [0x0020_0037, 'DS'],
  SamplesPerPixel: [0x0028_0002, 'US'],
  PhotometricInterpretation: [0x0028_0004, 'CS'],
  NumberOfFrames: [0x0028_0008, 'IS'],
  Rows: [0x0028_0010, 'US'],
  Columns: [0x0028_0011, 'US'],
  PixelSpacing: [0x0028_0030, 'DS'],
  BitsAllocated: [0x0028_0100, 'US'],
  BitsStored: [0x0028_0101, 'US'],
  HighBit: [0x0028_0102, 'US'],
  PixelRepresentation: [0x0028_0103, 'US'],
  PixelPaddingValue: [0x0028_0120, 'US'],
  RescaleIntercept: [0x0028_1052, 'DS'],
  RescaleSlope: [0x0028_1053, 'DS'],
  PixelData: [0x7fe0_0010, 'OW'],
} as const satisfies Record<string, readonly [number, string]>;

export type Keyword = keyof typeof tags;

const vrByTag = new Map<number, string>(Object.values(tags).map(([tag, vr]) => [tag, vr]));

/** The VR an implicit-VR file means for `tag`: the dictionary's, UL for group lengths, else UN. */
export function impliedVr(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  return vrByTag.get(tag) ?? 'UN';
}

/** (gggg,eeee) as DICOM writes tags. */
export const tagName = (tag: number) => `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`.toUpperCase();
