import { configureLogging, errorLine, formatHelp, parseCommandLine, Registry, StackdbError, UsageError, cleanupAll } from '@stackdb/core';
import type { ToolDescriptor } from './tool.js';
import { TOOLS } from './tools/index.js';

function topHelp(registry: Registry, tools: readonly ToolDescriptor[]): string {
  const width = Math.max(8, ...tools.map((t) => t.name.length)) + 2;
  const list = tools.length ? tools.map((t) => `  ${t.name.padEnd(width)}${t.summary}`).join('\n') : '  (none yet)';
  return formatHelp({
    usage: 'stackdb TOOL [OPTIONS] [-- PROGRAM ARGS...]',
    description: `A stackable debugger: attach to a process, a machine, a process inside it, or a PHP program;\nwalk stacks, read typed variables, place probes.\n\nTools:\n${list}\n\nRun 'stackdb TOOL --help' for a tool's own options.`,
    drivers: registry.plugins,
  });
}

/**
 * Runs `stackdb ARGS`; returns the exit code. Errors become one line on stderr:
 * usage errors exit with 2, others with their error's exit code (1 by default).
 */
export async function main(argv: readonly string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; tools?: readonly ToolDescriptor[]; registry?: Registry } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const tools = io.tools ?? TOOLS;
  try {
    const registry = io.registry ?? Registry.discover();
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const which = name === 'help' ? rest[0] : undefined;
      if (which === undefined) {
        stdout.write(topHelp(registry, tools));
        return name === undefined ? 2 : 0;
      }
      return main([which, '--help'], io);
    }
    const tool = tools.find((t) => t.name === name);
    if (!tool) {
      throw new UsageError(`unknown tool '${name}' (tools: ${tools.map((t) => t.name).join(', ') || 'none'}; see 'stackdb --help')`);
    }
    const args = parseCommandLine(rest, { drivers: registry.drivers, toolOptions: tool.options, targets: tool.targets });
    if (args.help) {
      stdout.write(formatHelp({
        usage: `stackdb ${tool.name} ${tool.usage}`,
        description: tool.description ?? tool.summary,
        toolOptions: tool.options,
        drivers: registry.plugins,
        targets: tool.targets,
      }));
      return 0;
    }
    configureLogging({
      ...(args.logging.debug !== undefined ? { debug: args.logging.debug } : {}),
      ...(args.logging.warn !== undefined ? { warn: args.logging.warn } : {}),
      ...(args.logging.flags ? { flags: args.logging.flags } : {}),
    });
    const impl = await tool.load();
    return await impl.run({ args, registry, stdout, stderr });
  } catch (err) {
    stderr.write(`stackdb: ${errorLine(err)}\n`);
    await cleanupAll();
    return err instanceof StackdbError ? err.exitCode : 1;
  }
}
