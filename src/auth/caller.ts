/** Who is calling: the owner of what they upload, and of the only photos they see (src/domain/owners.ts). */
export interface Caller {
  owner: string;
}
