import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCEPTED_FORMATS, IMAGE_EXTENSIONS, imageFormatOfSharp, isImageFileName } from '../../src/domain/imageFormats';
import { imageKey, parseImageKey } from '../../src/domain/keys';
import { contentTypeForKey } from '../../src/ports/contentType';

describe('image formats, defined once', () => {
  it('names them for messages, in one order', () => {
    assert.equal(ACCEPTED_FORMATS, 'JPEG, PNG, WebP, GIF, TIFF or AVIF');
    assert.deepEqual(IMAGE_EXTENSIONS, ['jpg', 'png', 'webp', 'gif', 'tiff', 'avif']);
  });

  it('every stored extension makes an image key and has its content type', () => {
    const id = '0190f5c2-8a3b-7c4d-9e5f-0123456789ab';
    assert.deepEqual(
      IMAGE_EXTENSIONS.map((ext) => [parseImageKey(imageKey('original', id, ext))?.ext, contentTypeForKey(`original/${id}.${ext}`)]),
      [
        ['jpg', 'image/jpeg'],
        ['png', 'image/png'],
        ['webp', 'image/webp'],
        ['gif', 'image/gif'],
        ['tiff', 'image/tiff'],
        ['avif', 'image/avif'],
      ],
    );
    assert.equal(contentTypeForKey('x/a.JPEG'), 'image/jpeg');
    assert.equal(contentTypeForKey('x/a.tif'), 'image/tiff');
    assert.equal(contentTypeForKey('status/a/resize.json'), 'application/json');
    assert.equal(contentTypeForKey('x/a.bmp'), 'application/octet-stream');
  });

  it("maps sharp's format names, AVIF being sharp's heif", () => {
    assert.equal(imageFormatOfSharp('heif')?.ext, 'avif');
    assert.equal(imageFormatOfSharp('jpeg')?.contentType, 'image/jpeg');
    assert.equal(imageFormatOfSharp('svg'), undefined);
    assert.equal(imageFormatOfSharp(undefined), undefined);
  });

  it('picks image files by name, whatever the case', () => {
    assert.deepEqual(['a.jpg', 'b.JPEG', 'c.tif', 'd.avif', 'e.bmp', 'notes.txt', 'jpg', '.png'].filter(isImageFileName), [
      'a.jpg',
      'b.JPEG',
      'c.tif',
      'd.avif',
      '.png',
    ]);
  });
});
