CREATE TABLE "pending_checks" (
	"sync" text NOT NULL,
	"key" text NOT NULL,
	"received_at" bigint NOT NULL,
	CONSTRAINT "pending_checks_sync_key_pk" PRIMARY KEY("sync","key")
);
