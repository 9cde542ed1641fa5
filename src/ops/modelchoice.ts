/** Which model a verb works on: the freshly trained one, the deployed one, or a file. */
import type { Config } from '../store/config.js';
import { loadModel, type ModelFile } from '../model/modelfile.js';
import { paths } from '../store/records.js';
import { currentReleaseFile } from '../store/releases.js';

export type ModelChoice = 'trained' | 'production' | (string & {});

export async function loadModelFrom(
  cfg: Config,
  choice: ModelChoice,
): Promise<{ model: ModelFile; text: string; path: string }> {
  const path =
    choice === 'trained'
      ? paths(cfg).model
      : choice === 'production'
        ? await currentReleaseFile(cfg.prod_deployment_path, 'trainedmodel.json')
        : choice;
  return { ...(await loadModel(path)), path };
}
