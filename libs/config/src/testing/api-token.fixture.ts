/** An access token for `user` from a running API's password grant (`POST /v1/auth/token`). */
export async function passwordToken(
  api: string,
  user: { username: string; password: string },
): Promise<string> {
  const res = await fetch(`${api}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', ...user }).toString(),
  });
  if (!res.ok) throw new Error(`POST /v1/auth/token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
