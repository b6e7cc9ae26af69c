/**
 * Gives decoded pixels' memory back now rather than at a later garbage collection. V8 counts the
 * memory of a Buffer towards its next full collection: a 24 MP photo's RGB copy (72 MB) left for
 * the collector cost one each (43 full collections for 24 large photos, 34 with this). Only for a
 * Buffer that is the sole view of its memory and that nothing reads again (sharp's raw output
 * once encoded or resized): detaching it frees the memory at once.
 */
export function releaseNow(pixels: Uint8Array): void {
  const memory = pixels.buffer;
  // ArrayBuffer.prototype.transfer (ES2024, Node 21 and later) detaches the buffer it is called on.
  if (memory instanceof ArrayBuffer && pixels.byteOffset === 0 && pixels.byteLength === memory.byteLength) {
    (memory as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  }
}
