export { ensureKubeBinaries, kubeBinariesBuilt, type KubeBinaries } from './build-binaries.ts';
export { startKube, ADMIN_USER, type KubeHarness, type StartKubeOptions } from './start-kube.ts';
export { kubeForTests, kubeUnavailableReason, SHARED_KUBECONFIG_ENV } from './kube-for-tests.ts';
export { installCrds, DEFAULT_CRD_DIR } from './install-crds.ts';
export { kubectl } from './kubectl.ts';
export { readKubeconfig } from './kubeconfig.ts';
export { seedSampleData } from './sample-data.ts';
