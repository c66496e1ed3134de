-- A store made by the previous agentreach (schema_version 1, VARCHAR(n) string columns), for
-- tests/test_model_store.py::test_a_schema_1_store_opens_and_takes_long_ids. Made with
-- src/agentreach/store.py at commit e888036031081173e836fa63e04e6d5201b2e1e9: Store(target), one
-- complete snapshot of the user alice and her key AKIA1 (the helpers user()/key() of that test
-- module), then dumped: pg_dump 15 --inserts --no-owner --no-privileges --no-comments, psql's \restrict lines dropped.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: annotations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.annotations (
    snapshot_id integer NOT NULL,
    node_id character varying(512) NOT NULL,
    aspect character varying(32) NOT NULL,
    body text NOT NULL
);


--
-- Name: blobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blobs (
    hash character varying(64) NOT NULL,
    body text NOT NULL
);


--
-- Name: gaps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.gaps (
    id integer NOT NULL,
    snapshot_id integer NOT NULL,
    connector character varying(64) NOT NULL,
    account character varying(128),
    region character varying(64),
    service character varying(64),
    operation character varying(128) NOT NULL,
    error_code character varying(128) NOT NULL,
    message text NOT NULL
);


--
-- Name: gaps_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.gaps_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: gaps_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.gaps_id_seq OWNED BY public.gaps.id;


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: objects; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.objects (
    node_id character varying(512) NOT NULL,
    first_seen_snapshot integer NOT NULL,
    first_seen_at timestamp with time zone NOT NULL,
    last_seen_snapshot integer NOT NULL,
    last_seen_at timestamp with time zone NOT NULL
);


--
-- Name: snapshot_edges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.snapshot_edges (
    snapshot_id integer NOT NULL,
    edge_id character varying(32) NOT NULL,
    src character varying(512) NOT NULL,
    dst character varying(512) NOT NULL,
    kind character varying(32) NOT NULL,
    blob character varying(64) NOT NULL
);


--
-- Name: snapshot_nodes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.snapshot_nodes (
    snapshot_id integer NOT NULL,
    node_id character varying(512) NOT NULL,
    kind character varying(16) NOT NULL,
    provider character varying(16) NOT NULL,
    type character varying(64) NOT NULL,
    name character varying(512) NOT NULL,
    native_id character varying(1024),
    account character varying(128),
    blob character varying(64) NOT NULL
);


--
-- Name: snapshots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.snapshots (
    id integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    status character varying(16) NOT NULL,
    config_digest character varying(64) NOT NULL,
    connectors json NOT NULL,
    options json NOT NULL,
    node_count integer NOT NULL,
    edge_count integer NOT NULL,
    gap_count integer NOT NULL,
    error text
);


--
-- Name: snapshots_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.snapshots_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: snapshots_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.snapshots_id_seq OWNED BY public.snapshots.id;


--
-- Name: gaps id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.gaps ALTER COLUMN id SET DEFAULT nextval('public.gaps_id_seq'::regclass);


--
-- Name: snapshots id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshots ALTER COLUMN id SET DEFAULT nextval('public.snapshots_id_seq'::regclass);


--
-- Data for Name: annotations; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: blobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.blobs VALUES ('9ac7b27d4fe5ff3f3b9c03527ecdab5f2798841efcfff3ac987d569db220de33', '{"account":"123456789012","attrs":{},"created":null,"enabled":true,"id":"aws:iam_user:arn:aws:iam::123456789012:user/alice","kind":"identity","last_used":null,"last_used_detail":null,"name":"alice","native_id":"arn:aws:iam::123456789012:user/alice","provider":"aws","region":null,"source":"aws","tags":{},"type":"aws_iam_user"}');
INSERT INTO public.blobs VALUES ('bf976bb7119f93c733485ac0b9fcbc5a862bc45b88a6330a9f1a66bec016e72e', '{"account":"123456789012","attrs":{},"created":"2026-01-01T00:00:00Z","expires":null,"fingerprint":null,"id":"aws:access_key:AKIA1","kind":"credential","last_used":null,"last_used_detail":null,"name":"AKIA1","native_id":"AKIA1","preview":null,"provider":"aws","region":null,"rotation":{},"source":"aws","status":"active","tags":{},"type":"aws_access_key"}');
INSERT INTO public.blobs VALUES ('c2ac9b955f3bf95bfd8ae9641758e0840be33d7d03b20fca4fb823fbb9761d12', '{"attrs":{},"dst":"aws:iam_user:arn:aws:iam::123456789012:user/alice","id":"e1834de70faf0f7f48e3f6180d5f90c5","key":"","kind":"authenticates","source":"aws","src":"aws:access_key:AKIA1"}');


--
-- Data for Name: gaps; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '1');
INSERT INTO public.meta VALUES ('fingerprint_salt', 'a6f1a82e29dc96181ecd027c91e17953');


--
-- Data for Name: objects; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.objects VALUES ('aws:access_key:AKIA1', 1, '2026-01-01 00:05:00+00', 1, '2026-01-01 00:05:00+00');
INSERT INTO public.objects VALUES ('aws:iam_user:arn:aws:iam::123456789012:user/alice', 1, '2026-01-01 00:05:00+00', 1, '2026-01-01 00:05:00+00');


--
-- Data for Name: snapshot_edges; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.snapshot_edges VALUES (1, 'e1834de70faf0f7f48e3f6180d5f90c5', 'aws:access_key:AKIA1', 'aws:iam_user:arn:aws:iam::123456789012:user/alice', 'authenticates', 'c2ac9b955f3bf95bfd8ae9641758e0840be33d7d03b20fca4fb823fbb9761d12');


--
-- Data for Name: snapshot_nodes; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.snapshot_nodes VALUES (1, 'aws:iam_user:arn:aws:iam::123456789012:user/alice', 'identity', 'aws', 'aws_iam_user', 'alice', 'arn:aws:iam::123456789012:user/alice', '123456789012', '9ac7b27d4fe5ff3f3b9c03527ecdab5f2798841efcfff3ac987d569db220de33');
INSERT INTO public.snapshot_nodes VALUES (1, 'aws:access_key:AKIA1', 'credential', 'aws', 'aws_access_key', 'AKIA1', 'AKIA1', '123456789012', 'bf976bb7119f93c733485ac0b9fcbc5a862bc45b88a6330a9f1a66bec016e72e');


--
-- Data for Name: snapshots; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.snapshots VALUES (1, '2026-01-01 00:00:00+00', '2026-01-01 00:05:00+00', 'complete', 'x', '{"aws": "t"}', '{}', 2, 1, 0, NULL);


--
-- Name: gaps_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.gaps_id_seq', 1, false);


--
-- Name: snapshots_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.snapshots_id_seq', 1, true);


--
-- Name: annotations annotations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotations
    ADD CONSTRAINT annotations_pkey PRIMARY KEY (snapshot_id, node_id, aspect);


--
-- Name: blobs blobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blobs
    ADD CONSTRAINT blobs_pkey PRIMARY KEY (hash);


--
-- Name: gaps gaps_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.gaps
    ADD CONSTRAINT gaps_pkey PRIMARY KEY (id);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: objects objects_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.objects
    ADD CONSTRAINT objects_pkey PRIMARY KEY (node_id);


--
-- Name: snapshot_edges snapshot_edges_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_edges
    ADD CONSTRAINT snapshot_edges_pkey PRIMARY KEY (snapshot_id, edge_id);


--
-- Name: snapshot_nodes snapshot_nodes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_nodes
    ADD CONSTRAINT snapshot_nodes_pkey PRIMARY KEY (snapshot_id, node_id);


--
-- Name: snapshots snapshots_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshots
    ADD CONSTRAINT snapshots_pkey PRIMARY KEY (id);


--
-- Name: ix_gaps_snapshot_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_gaps_snapshot_id ON public.gaps USING btree (snapshot_id);


--
-- Name: ix_snapshot_edges_dst; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_snapshot_edges_dst ON public.snapshot_edges USING btree (snapshot_id, dst);


--
-- Name: ix_snapshot_edges_src; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_snapshot_edges_src ON public.snapshot_edges USING btree (snapshot_id, src);


--
-- Name: ix_snapshot_nodes_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_snapshot_nodes_name ON public.snapshot_nodes USING btree (snapshot_id, name);


--
-- Name: ix_snapshot_nodes_native; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_snapshot_nodes_native ON public.snapshot_nodes USING btree (snapshot_id, native_id);


--
-- Name: annotations annotations_snapshot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotations
    ADD CONSTRAINT annotations_snapshot_id_fkey FOREIGN KEY (snapshot_id) REFERENCES public.snapshots(id);


--
-- Name: gaps gaps_snapshot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.gaps
    ADD CONSTRAINT gaps_snapshot_id_fkey FOREIGN KEY (snapshot_id) REFERENCES public.snapshots(id);


--
-- Name: snapshot_edges snapshot_edges_blob_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_edges
    ADD CONSTRAINT snapshot_edges_blob_fkey FOREIGN KEY (blob) REFERENCES public.blobs(hash);


--
-- Name: snapshot_edges snapshot_edges_snapshot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_edges
    ADD CONSTRAINT snapshot_edges_snapshot_id_fkey FOREIGN KEY (snapshot_id) REFERENCES public.snapshots(id);


--
-- Name: snapshot_nodes snapshot_nodes_blob_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_nodes
    ADD CONSTRAINT snapshot_nodes_blob_fkey FOREIGN KEY (blob) REFERENCES public.blobs(hash);


--
-- Name: snapshot_nodes snapshot_nodes_snapshot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.snapshot_nodes
    ADD CONSTRAINT snapshot_nodes_snapshot_id_fkey FOREIGN KEY (snapshot_id) REFERENCES public.snapshots(id);


--
-- PostgreSQL database dump complete
--


