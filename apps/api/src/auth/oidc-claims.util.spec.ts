import type { OidcIssuerSettings } from '@app/config';
import { claimAt, oidcPrincipal, rolesFromClaims } from './oidc-claims.util';

const SETTINGS: OidcIssuerSettings = {
  issuer: 'https://idp.example.com',
  audience: ['api'],
  rolesClaim: 'roles',
  algorithms: ['RS256'],
};
const exp = Math.floor(Date.now() / 1000) + 60;

describe('OIDC claims', () => {
  it('reads claims by exact name first, then by dotted path', () => {
    const payload = { 'cognito:groups': ['a'], 'a.b': 1, a: { b: 2, c: { d: 3 } } };
    expect(claimAt(payload, 'cognito:groups')).toEqual(['a']);
    expect(claimAt(payload, 'a.b')).toBe(1);
    expect(claimAt(payload, 'a.c.d')).toBe(3);
    expect(claimAt(payload, 'a.x.y')).toBeUndefined();
  });

  it.each([
    [{ roles: ['client', 'root', 7] }, undefined, ['client']],
    [{ roles: 'client ml-engineer' }, undefined, ['client', 'ml-engineer']],
    [{ roles: 'a,b' }, { a: ['admin'], b: ['admin', 'client'] }, ['admin', 'client']],
    [{ roles: ['client'] }, { ops: ['admin'] }, []],
    [{}, undefined, []],
    [{ roles: { admin: true } }, undefined, []],
  ])('maps %j through %j to %j', (payload, roleMap, roles) => {
    expect(rolesFromClaims({ ...SETTINGS, roleMap } as OidcIssuerSettings, payload)).toEqual(roles);
  });

  it('builds a principal, taking the first username claim present', () => {
    expect(oidcPrincipal(SETTINGS, { sub: 's1', aud: 'api', exp, email: 'e@x', roles: ['client'] })).toEqual({
      kind: 'oidc',
      id: 'https://idp.example.com#s1',
      name: 'e@x',
      roles: ['client'],
    });
    expect(oidcPrincipal(SETTINGS, { sub: 's1', aud: ['x', 'api'], exp })).toMatchObject({ name: 's1' });
  });

  it.each([
    [{ sub: 's', aud: 'api' }, /expiry/],
    [{ aud: 'api', exp }, /subject/],
    [{ sub: 's', aud: 'other', exp }, /audience/],
    [{ sub: 's', aud: 'other', client_id: 'api', exp }, /audience/],
  ])('refuses %j', (payload, reason) => {
    expect(oidcPrincipal(SETTINGS, payload)).toEqual({ refused: expect.stringMatching(reason) });
  });

  it('takes client_id as the audience of tokens without aud (Cognito access tokens), and checks token_use', () => {
    const cognito = { ...SETTINGS, tokenUse: 'access' as const };
    expect(oidcPrincipal(cognito, { sub: 's', client_id: 'api', token_use: 'access', exp })).toHaveProperty(
      'kind',
    );
    expect(oidcPrincipal(cognito, { sub: 's', aud: 'api', token_use: 'id', exp })).toEqual({
      refused: 'token_use must be access',
    });
  });
});
