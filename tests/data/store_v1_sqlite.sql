-- A store made by the previous agentreach (schema_version 1, VARCHAR(n) string columns), for
-- tests/test_model_store.py::test_a_schema_1_store_opens_and_takes_long_ids. Made with
-- src/agentreach/store.py at commit e888036031081173e836fa63e04e6d5201b2e1e9: Store(target), one
-- complete snapshot of the user alice and her key AKIA1 (the helpers user()/key() of that test
-- module), then dumped: Python's sqlite3 iterdump().
BEGIN TRANSACTION;
CREATE TABLE annotations (
	snapshot_id INTEGER NOT NULL, 
	node_id VARCHAR(512) NOT NULL, 
	aspect VARCHAR(32) NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (snapshot_id, node_id, aspect), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id)
);
CREATE TABLE blobs (
	hash VARCHAR(64) NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (hash)
);
INSERT INTO "blobs" VALUES('9ac7b27d4fe5ff3f3b9c03527ecdab5f2798841efcfff3ac987d569db220de33','{"account":"123456789012","attrs":{},"created":null,"enabled":true,"id":"aws:iam_user:arn:aws:iam::123456789012:user/alice","kind":"identity","last_used":null,"last_used_detail":null,"name":"alice","native_id":"arn:aws:iam::123456789012:user/alice","provider":"aws","region":null,"source":"aws","tags":{},"type":"aws_iam_user"}');
INSERT INTO "blobs" VALUES('bf976bb7119f93c733485ac0b9fcbc5a862bc45b88a6330a9f1a66bec016e72e','{"account":"123456789012","attrs":{},"created":"2026-01-01T00:00:00Z","expires":null,"fingerprint":null,"id":"aws:access_key:AKIA1","kind":"credential","last_used":null,"last_used_detail":null,"name":"AKIA1","native_id":"AKIA1","preview":null,"provider":"aws","region":null,"rotation":{},"source":"aws","status":"active","tags":{},"type":"aws_access_key"}');
INSERT INTO "blobs" VALUES('c2ac9b955f3bf95bfd8ae9641758e0840be33d7d03b20fca4fb823fbb9761d12','{"attrs":{},"dst":"aws:iam_user:arn:aws:iam::123456789012:user/alice","id":"e1834de70faf0f7f48e3f6180d5f90c5","key":"","kind":"authenticates","source":"aws","src":"aws:access_key:AKIA1"}');
CREATE TABLE gaps (
	id INTEGER NOT NULL, 
	snapshot_id INTEGER NOT NULL, 
	connector VARCHAR(64) NOT NULL, 
	account VARCHAR(128), 
	region VARCHAR(64), 
	service VARCHAR(64), 
	operation VARCHAR(128) NOT NULL, 
	error_code VARCHAR(128) NOT NULL, 
	message TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id)
);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','1');
INSERT INTO "meta" VALUES('fingerprint_salt','dc57ae6bb073e77776b950df11a87d4b');
CREATE TABLE objects (
	node_id VARCHAR(512) NOT NULL, 
	first_seen_snapshot INTEGER NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	last_seen_snapshot INTEGER NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	PRIMARY KEY (node_id)
);
INSERT INTO "objects" VALUES('aws:access_key:AKIA1',1,'2026-01-01 00:05:00.000000',1,'2026-01-01 00:05:00.000000');
INSERT INTO "objects" VALUES('aws:iam_user:arn:aws:iam::123456789012:user/alice',1,'2026-01-01 00:05:00.000000',1,'2026-01-01 00:05:00.000000');
CREATE TABLE snapshot_edges (
	snapshot_id INTEGER NOT NULL, 
	edge_id VARCHAR(32) NOT NULL, 
	src VARCHAR(512) NOT NULL, 
	dst VARCHAR(512) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	blob VARCHAR(64) NOT NULL, 
	PRIMARY KEY (snapshot_id, edge_id), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id), 
	FOREIGN KEY(blob) REFERENCES blobs (hash)
);
INSERT INTO "snapshot_edges" VALUES(1,'e1834de70faf0f7f48e3f6180d5f90c5','aws:access_key:AKIA1','aws:iam_user:arn:aws:iam::123456789012:user/alice','authenticates','c2ac9b955f3bf95bfd8ae9641758e0840be33d7d03b20fca4fb823fbb9761d12');
CREATE TABLE snapshot_nodes (
	snapshot_id INTEGER NOT NULL, 
	node_id VARCHAR(512) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	provider VARCHAR(16) NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	name VARCHAR(512) NOT NULL, 
	native_id VARCHAR(1024), 
	account VARCHAR(128), 
	blob VARCHAR(64) NOT NULL, 
	PRIMARY KEY (snapshot_id, node_id), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id), 
	FOREIGN KEY(blob) REFERENCES blobs (hash)
);
INSERT INTO "snapshot_nodes" VALUES(1,'aws:iam_user:arn:aws:iam::123456789012:user/alice','identity','aws','aws_iam_user','alice','arn:aws:iam::123456789012:user/alice','123456789012','9ac7b27d4fe5ff3f3b9c03527ecdab5f2798841efcfff3ac987d569db220de33');
INSERT INTO "snapshot_nodes" VALUES(1,'aws:access_key:AKIA1','credential','aws','aws_access_key','AKIA1','AKIA1','123456789012','bf976bb7119f93c733485ac0b9fcbc5a862bc45b88a6330a9f1a66bec016e72e');
CREATE TABLE snapshots (
	id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR(16) NOT NULL, 
	config_digest VARCHAR(64) NOT NULL, 
	connectors JSON NOT NULL, 
	options JSON NOT NULL, 
	node_count INTEGER NOT NULL, 
	edge_count INTEGER NOT NULL, 
	gap_count INTEGER NOT NULL, 
	error TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "snapshots" VALUES(1,'2026-01-01 00:00:00.000000','2026-01-01 00:05:00.000000','complete','x','{"aws": "t"}','{}',2,1,0,NULL);
CREATE INDEX ix_snapshot_nodes_name ON snapshot_nodes (snapshot_id, name);
CREATE INDEX ix_snapshot_nodes_native ON snapshot_nodes (snapshot_id, native_id);
CREATE INDEX ix_snapshot_edges_src ON snapshot_edges (snapshot_id, src);
CREATE INDEX ix_snapshot_edges_dst ON snapshot_edges (snapshot_id, dst);
CREATE INDEX ix_gaps_snapshot_id ON gaps (snapshot_id);
COMMIT;
