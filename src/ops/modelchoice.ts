/**
 * Which model a verb works on: the freshly trained one ("trained"), the champion ("champion",
 * or "production" as before the registry), any alias ("challenger", a name of yours), a
 * registry version ("v0003" or "3"), or a model file path.
 */
import { access } from 'node:fs/promises';
import { StateError } from '../errors.js';
import type { Config } from '../store/config.js';
import { loadModel, type ModelFile } from '../model/modelfile.js';
import { paths } from '../store/records.js';
import { currentReleaseFile } from '../store/releases.js';
import { currentChampion, syncRegistry } from '../store/champion.js';
import { findByContent, modelContentHash, readAliases, versionModelPath, versionName } from '../store/registry.js';

export type ModelChoice = 'trained' | 'production' | 'champion' | (string & {});

export interface ChosenModel {
  model: ModelFile;
  text: string;
  path: string;
  /** Registry version, or null for a model file the registry does not hold. */
  version: number | null;
}

const VERSION = /^v?(\d+)$/;

export async function loadModelFrom(cfg: Config, choice: ModelChoice): Promise<ChosenModel> {
  if (choice === 'production' || choice === 'champion') {
    await syncRegistry(cfg);
    const path = await currentReleaseFile(cfg.prod_deployment_path, 'trainedmodel.json');
    const champ = await currentChampion(cfg);
    return { ...(await loadModel(path)), path, version: champ?.version ?? null };
  }
  let path: string;
  let version: number | null = null;
  const m = VERSION.exec(choice);
  if (choice === 'trained') path = paths(cfg).model;
  else if (m) {
    version = Number(m[1]);
    path = versionModelPath(cfg, version);
    if (!(await access(path).then(() => true, () => false))) {
      throw new StateError(`there is no model version ${versionName(version)} in the registry`, 'list the versions with `mlops models`');
    }
  } else {
    const aliases = /^[A-Za-z][\w-]*$/.test(choice) ? await readAliases(cfg) : {};
    if (Object.hasOwn(aliases, choice)) {
      version = aliases[choice]!;
      path = versionModelPath(cfg, version);
    } else {
      path = choice;
      // A bare name that is neither an alias nor a file: say so, not "model file not found".
      if (/^[A-Za-z][\w-]*$/.test(choice) && !(await access(choice).then(() => true, () => false))) {
        throw new StateError(
          `"${choice}": no alias of that name is set and no such model file exists`,
          Object.keys(aliases).length ? `aliases: champion, ${Object.keys(aliases).join(', ')}` : 'set one with `mlops promote V --alias NAME`',
        );
      }
    }
  }
  const loaded = await loadModel(path);
  if (version === null) {
    try {
      version = (await findByContent(cfg, modelContentHash(loaded.text)))?.version ?? null;
    } catch {
      version = null; // not JSON the registry can hash: loadModel has accepted it, so it is a model
    }
  }
  return { ...loaded, path, version };
}
