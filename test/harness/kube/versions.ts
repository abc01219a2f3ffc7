// The one pin for the test control plane. etcd's version is not pinned here: it is read from
// this Kubernetes release's own go.mod, so the pair always matches what upstream tested together.
export const KUBE_VERSION = 'v1.35.4';

// Bump when the generated wrapper modules or build flags change, so cached binaries are rebuilt.
export const GENERATOR_REVISION = 1;
