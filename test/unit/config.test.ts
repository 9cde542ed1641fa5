import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/store/config.js';
import { ConfigError } from '../../src/errors.js';

const base = {
  input_folder_path: 'practicedata',
  output_folder_path: 'ingesteddata',
  test_data_path: 'testdata',
  output_model_path: 'practicemodels',
  prod_deployment_path: 'production_deployment',
};

describe('parseConfig', () => {
  it('resolves folders against the config folder and fills defaults', () => {
    const c = parseConfig(base, '/p/config.json', '/p');
    expect(c.input_folder_path).toBe('/p/practicedata');
    expect(c.target).toBe('exited');
    expect(c.features).toBeNull();
    expect(c.model).toEqual({ C: 1, max_iter: 100 });
  });

  it('accepts target, features and model settings', () => {
    const c = parseConfig({ ...base, target: 'y', features: ['a', 'b'], model: { C: 0.5 } }, '/p/c.json', '/p');
    expect(c).toMatchObject({ target: 'y', features: ['a', 'b'], model: { C: 0.5, max_iter: 100 } });
  });

  it.each([
    [{ ...base, extra: 1 }, /unknown key "extra"/],
    [{ ...base, features: [] }, /"features" must be a non-empty array/],
    [{ ...base, features: ['exited'] }, /must not include the target/],
    [{ ...base, features: ['a', 'a'] }, /lists a column twice/],
    [{ ...base, model: { C: 0 } }, /"model\.C" has an invalid value 0/],
    [{ ...base, model: { gamma: 1 } }, /unknown key "model\.gamma"/],
    [{ ...base, target: 5 }, /"target" must be a non-empty string/],
    [[1, 2], /must hold a JSON object/],
    [{ ...base, output_folder_path: './practicedata/' }, /"output_folder_path" is the input folder/],
  ])('rejects %j', (raw, msg) => {
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(ConfigError);
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(msg);
  });
});
