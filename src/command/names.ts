/**
 * Kubernetes name rules, checked before any value reaches an API call or a restic argument.
 * Namespaces are RFC 1123 labels; object names (ReplicationSources, PVCs, apps) RFC 1123 subdomains.
 */
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(s: string): boolean {
  return s.length > 0 && s.length <= 63 && LABEL.test(s);
}

export function isDnsSubdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((part) => LABEL.test(part));
}

/** Returns undefined when valid, else one line saying why and what a valid value looks like. */
export function checkName(kind: 'namespace' | 'name', value: string, label: string): string | undefined {
  const shown = value.length > 70 ? `${value.slice(0, 67)}...` : value;
  if (kind === 'namespace') {
    if (isDnsLabel(value)) return undefined;
    return `\`${shown}\` is not a valid ${label}: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit.`;
  }
  if (isDnsSubdomain(value)) return undefined;
  return `\`${shown}\` is not a valid ${label}: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (at most 253).`;
}
