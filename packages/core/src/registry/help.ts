import { COMMON_OPTIONS, STACK_OPTIONS } from './common-options.js';
import type { DiscoveredPlugin, OptionDecl } from './declarations.js';

function optionLine(o: OptionDecl): string {
  const short = o.short ? `-${o.short}, ` : '    ';
  const arg = o.arg ? (o.optionalArg ? `[=${o.arg}]` : `=${o.arg}`) : '';
  const left = `  ${short}--${o.long}${arg}`;
  return left.length < 32 ? left.padEnd(32) + o.help : `${left}\n${' '.repeat(32)}${o.help}`;
}

/** Renders option groups: the tool's, core's common ones, then one group per installed driver. */
export function formatHelp(input: {
  usage: string;
  description?: string;
  toolOptions?: readonly OptionDecl[];
  drivers: readonly DiscoveredPlugin[];
  targets?: boolean;
  footer?: string;
}): string {
  const out: string[] = [`Usage: ${input.usage}`];
  if (input.description) out.push('', input.description);
  if (input.toolOptions?.length) out.push('', 'Options:', ...input.toolOptions.map(optionLine));
  if (input.targets ?? true) {
    out.push('', 'Common target options:', ...COMMON_OPTIONS.map(optionLine), ...STACK_OPTIONS.map(optionLine));
    const drivers = sortDrivers(input.drivers.filter((d) => d.kind !== 'personality'));
    for (const d of drivers) {
      const kind = d.kind === 'overlay-driver' ? 'overlay driver' : 'driver';
      out.push('', `${d.name} ${kind} (${d.packageName})${d.description ? `: ${d.description}` : ''}`);
      const opts = d.options ?? [];
      if (opts.length) out.push(...opts.map(optionLine));
      else out.push(`  (no options of its own: select it with -t ${d.name})`);
      if (d.program) out.push(`  -- PROGRAM [ARGS...]             ${d.program.help}`);
      for (const h of d.helpers ?? []) {
        out.push('', `  ${h.name} helper for the ${d.name} driver${h.description ? `: ${h.description}` : ''}`, ...h.options.map(optionLine));
      }
    }
    const personalities = input.drivers.filter((d) => d.kind === 'personality');
    if (personalities.length) out.push('', 'Personalities:', ...personalities.map((p) => `  ${p.name.padEnd(30)}${p.description ?? ''} (${p.packageName})`));
    if (!drivers.length) out.push('', 'No driver packages are installed (install e.g. @stackdb/driver-ptrace).');
  }
  if (input.footer) out.push('', input.footer);
  return out.join('\n') + '\n';
}

const PREFERRED = ['ptrace', 'gdb', 'xen', 'elfcore'];

/** Base drivers first (the seed's order, then by name), then overlay drivers by name. */
function sortDrivers(drivers: readonly DiscoveredPlugin[]): DiscoveredPlugin[] {
  const rank = (d: DiscoveredPlugin) => {
    const i = PREFERRED.indexOf(d.name);
    return (d.kind === 'overlay-driver' ? 100 : 0) + (i < 0 ? 50 : i);
  };
  return [...drivers].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
