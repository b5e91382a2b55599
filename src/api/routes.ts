import type { App } from "./app";
import { registerDatasetRestoreRoutes } from "./dataset-restore";
import { registerDatasetVersionRoutes } from "./dataset-versions";
import { registerDatasetRoutes } from "./datasets";
import { registerFileRoutes } from "./files";
import { registerGcRoutes } from "./gc";
import { registerHealthRoutes } from "./health";
import { registerJobControlRoutes } from "./job-control";
import { registerJobProgressRoutes } from "./job-progress";
import { registerJobRoutes } from "./jobs";
import { registerLocationRoutes } from "./locations";
import { registerManifestRoutes } from "./manifests";
import { registerMetricsRoutes } from "./metrics";
import { registerProgressRoutes } from "./progress";
import { registerPartitionRoutes } from "./partitions";
import { registerProviderRoutes } from "./providers";
import { registerQueryRoutes } from "./query";
import { registerSchemaRoutes } from "./schema";
import { registerScheduleRoutes } from "./dataset-schedules";
import { registerTableFileRoutes } from "./table-files";
import { registerTableRevisionRoutes } from "./table-revisions";
import { registerWorkerRoutes } from "./workers";

/** Every resource module of the API, in the order its routes are registered. */
export const resourceRoutes: ((app: App) => void)[] = [registerHealthRoutes, registerProviderRoutes, registerDatasetRoutes, registerDatasetVersionRoutes, registerManifestRoutes, registerJobControlRoutes, registerScheduleRoutes, registerProgressRoutes, registerTableFileRoutes, registerPartitionRoutes, registerJobRoutes, registerJobProgressRoutes, registerLocationRoutes, registerTableRevisionRoutes, registerDatasetRestoreRoutes, registerFileRoutes, registerGcRoutes, registerWorkerRoutes, registerMetricsRoutes, registerQueryRoutes, registerSchemaRoutes];
