/** The API's session cookie (server/auth.ts): httpOnly, so only its presence is visible to the dashboard's server. */
export const SESSION_COOKIE = 'sentra_session'
