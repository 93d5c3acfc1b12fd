import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '@concord/cli';

describe('createProgram help', () => {
  it('shows a default that is resolved later (description only) as well as a default value', () => {
    const program = createProgram('tool', 'a tool', '1.0.0');
    program
      .command('go')
      .addOption(new Option('--sites <n>', 'number of sites (env TOOL_SITES)').default(undefined, '10'))
      .addOption(new Option('--mode <m>', 'mode').default('fast'))
      .addOption(new Option('--url <u>', 'server URL'));
    const help = program.commands[0].helpInformation();
    expect(help).toMatch(/number of sites \(env TOOL_SITES\)\s+\(default: 10\)/);
    expect(help).toContain('(default: "fast")');
    expect(help).not.toMatch(/server URL\s+\(default/);
    expect(program.commands[0].opts().sites).toBeUndefined();
  });
});
