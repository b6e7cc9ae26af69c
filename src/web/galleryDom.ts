/** The page's element with this id, which the gallery's HTML must have (a missing one is a bug of the page). */
export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`gallery: the page has no #${id}`);
  return node as T;
}
