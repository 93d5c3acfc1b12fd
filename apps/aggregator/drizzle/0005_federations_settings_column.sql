-- The column stores the engine settings a federation spec resolves into (federation/settings.ts), not the spec.
ALTER TABLE "federations" RENAME COLUMN "spec" TO "settings";
