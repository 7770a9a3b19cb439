import { loadCatalog, type TiersFile } from "../../../catalog/index.ts";

export async function exampleTiersFrom(dir: string): Promise<TiersFile> {
  const loaded = await loadCatalog(dir);
  if (!loaded.ok) throw new Error(`catalog ${dir} is invalid`);
  return loaded.catalog.tiers;
}
