/** `relative path size mtimeMs` per file that dist/ is compiled from, sorted, one string. */
export function sourceStamp(root: string): string;
