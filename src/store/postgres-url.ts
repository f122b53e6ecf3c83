/** A store location that names a PostgreSQL database rather than a SQLite file (light: usage checks import it). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
