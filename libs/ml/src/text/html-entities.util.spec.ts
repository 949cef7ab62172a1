import { decodeHtmlEntities } from './html-entities.util';

describe('decodeHtmlEntities', () => {
  it('decodes numeric and named references, with or without the semicolon', () => {
    expect(decodeHtmlEntities('l&#39;&#x27;&eacute;t&eacute &amp; &OElig;uf&nbsp;&rsquo;')).toBe(
      "l''été & Œuf\u00a0’",
    );
  });

  it('leaves unknown names and invalid code points alone', () => {
    expect(decodeHtmlEntities('&dragons; &#0; a & b')).toBe('&dragons; &#0; a & b');
  });
});
