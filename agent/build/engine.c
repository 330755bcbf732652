// SPDX-License-Identifier: GPL-2.0-or-later
/* build / install / uninstall over one or many packages (see engine.h). */
#include <fcntl.h>
#include <poll.h>

#include "build/build.h"
#include "build/engine.h"
#include "build/install.h"
#include "lib/child.h"
#include "lib/json.h"
#include "lib/log.h"
#include "dkms/registry.h"

enum job_state { JOB_WAIT, JOB_RUN, JOB_OK, JOB_FAIL, JOB_EXCLUDED };

struct job {
	char *module, *version;
	char **deps;
	enum job_state state;
	bool timed_out, changed;
	pid_t pid;
	int fd;
	unsigned jobs;
	/* Set when the job starts; depmod afterwards shares it too. */
	unsigned long long deadline;
	char *message;
};

struct engine {
	struct dkb_ctx *c;
	const struct engine_opts *o;
	struct job *j;
	size_t n;
	unsigned free_jobs;
};

static void engine_free(struct engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->j[i].module);
		free(e->j[i].version);
		strv_free(e->j[i].deps);
		free(e->j[i].message);
	}
	free(e->j);
}

static int add_job(struct engine *e, const char *m, const char *v, char **deps)
{
	struct job *nj = realloc(e->j, (e->n + 1) * sizeof(*nj));

	if (!nj)
		return -ENOMEM;
	e->j = nj;
	nj[e->n] = (struct job){
		.module = strdup(m), .version = strdup(v), .fd = -1};
	for (char **d = deps; d && *d; d++)
		if (strv_push(&nj[e->n].deps, *d) < 0)
			return -ENOMEM;
	e->n++;
	return nj[e->n - 1].module && nj[e->n - 1].version ? 0 : -ENOMEM;
}

/* Which version of m to act on: the one asked for, else the newest
 * registered one whose conf sets AUTOINSTALL (--all) or the newest
 * registered one at all (a named package). */
static int pick(struct engine *e, const struct reg_list *all, const char *m,
		bool need_autoinstall)
{
	_cleanup_(freep) char *best = NULL;
	_cleanup_(strv_freep) char **deps = NULL;

	for (size_t i = 0; i < all->n; i++) {
		struct dkms_conf conf = {0};
		int r;

		if (!streq(all->p[i].a, m))
			continue;
		r = dkb_read_conf(e->c, m, all->p[i].b, e->o->kernel,
				  e->o->arch, NULL, &conf, NULL);
		if (r == 0 && !strv_length(conf.errors) &&
		    (!need_autoinstall || conf.autoinstall) &&
		    (!best || dkms_ver_cmp(all->p[i].b, best) > 0)) {
			free(best);
			strv_free(deps);
			best = strdup(all->p[i].b);
			deps = conf.build_depends;
			conf.build_depends = NULL;
		}
		dkms_conf_free(&conf);
	}
	if (!best && !need_autoinstall) {
		log_err("%s: no registered version with a readable dkms.conf",
			m);
		return -ENOENT;
	}
	return best ? add_job(e, m, best, deps) : 0;
}

static int collect(struct engine *e)
{
	_cleanup_(reg_list_freep) struct reg_list all = {0};
	const struct engine_opts *o = e->o;
	int r = reg_list_added(e->c, o->module, NULL, &all);

	if (r < 0)
		return r;
	if (o->module && o->version) {
		if (!reg_is_added(e->c, o->module, o->version)) {
			log_err("%s/%s is not in the dkms tree (%s)", o->module,
				o->version, e->c->dkms_tree);
			return -ENOENT;
		}
		return add_job(e, o->module, o->version, NULL);
	}
	if (o->module) {
		if (all.n == 0) {
			log_err("%s is not in the dkms tree (%s)", o->module,
				e->c->dkms_tree);
			return -ENOENT;
		}
		return pick(e, &all, o->module, false);
	}
	for (size_t i = 0; r == 0 && i < all.n; i++)
		if (i == 0 || !streq(all.p[i - 1].a, all.p[i].a))
			r = pick(e, &all, all.p[i].a, true);
	return r;
}

/* ---- one package, in a worker process ---- */

/* The line a worker sends back: "<state> <timed_out> <changed> <message>". */
static void report(int fd, enum job_state s, bool timed_out, bool changed,
		   const char *msg)
{
	dprintf(fd, "%d %d %d %s", (int)s, timed_out, changed, msg ? msg : "");
}

/* One deadline per package: patch, PRE_BUILD, make, strip, sign,
 * POST_BUILD and the install scripts share it, none gets a fresh one. */
static unsigned long long package_deadline(const struct engine_opts *o)
{
	return o->timeout_ms ? now_ns() + (unsigned long long)o->timeout_ms *
						  1000000ULL
			     : 0;
}

static void worker(struct engine *e, struct job *j, int fd)
{
	const struct engine_opts *o = e->o;
	unsigned long long deadline = j->deadline;
	struct build_req bq = {.module = j->module,
			       .version = j->version,
			       .kernel = o->kernel,
			       .arch = o->arch,
			       .jobs = j->jobs,
			       .timeout_ms = o->timeout_ms,
			       .deadline_ns = deadline,
			       .force = o->force,
			       .workdir = o->workdir};
	struct install_req iq = {.module = j->module,
				 .version = j->version,
				 .kernel = o->kernel,
				 .arch = o->arch,
				 .force = o->force,
				 .timeout_ms = o->timeout_ms,
				 .deadline_ns = deadline,
				 .run_scripts = o->run_scripts};
	struct build_result br = {0};
	struct install_result ir = {0};
	int r = build_package(e->c, &bq, &br);

	if (r < 0 || br.status == BUILD_EXCLUDED || o->action == ENGINE_BUILD) {
		report(fd,
		       r < 0			     ? JOB_FAIL
		       : br.status == BUILD_EXCLUDED ? JOB_EXCLUDED
						     : JOB_OK,
		       br.status == BUILD_TIMEOUT, false, br.message);
		return;
	}
	/* A forced rebuild is installed over what was there. */
	iq.force = o->force;
	r = install_package(e->c, &iq, &ir);
	report(fd, r < 0 ? JOB_FAIL : JOB_OK, ir.status == INSTALL_TIMEOUT,
	       r == 0 && ir.status == INSTALL_DONE, ir.message);
	build_result_free(&br);
	install_result_free(&ir);
}

static int start(struct engine *e, struct job *j, unsigned jobs)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	j->jobs = jobs;
	j->deadline = package_deadline(e->o);
	j->pid = fork();
	if (j->pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (j->pid == 0) {
		close(p[0]);
		worker(e, j, p[1]);
		_exit(0);
	}
	close(p[1]);
	j->fd = p[0];
	j->state = JOB_RUN;
	e->free_jobs -= jobs;
	log_info("%s/%s: %s for %s with -j%u", j->module, j->version,
		 e->o->action == ENGINE_BUILD ? "building" : "installing",
		 e->o->kernel, jobs);
	return 0;
}

/* "<state> <timed_out> <changed> <message>" from report(). */
static int parse_report(const char *buf, int *st, int *ts, int *ch, int *off)
{
	int *f[3] = {st, ts, ch};
	const char *p = buf;

	for (int i = 0; i < 3; i++) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || *end != ' ' || v < -1 || v > 16)
			return -EPROTO;
		*f[i] = (int)v;
		p = end + 1;
	}
	*off = (int)(p - buf);
	return 0;
}

static void finish(struct engine *e, struct job *j)
{
	_cleanup_(freep) char *buf = NULL;
	int st, ts = 0, ch = 0, off = 0;

	if (read_fd(j->fd, 65536, &buf, NULL) < 0 || !buf ||
	    parse_report(buf, &st, &ts, &ch, &off) < 0) {
		st = JOB_FAIL;
		free(buf);
		buf = xasprintf("-1 0 0 %s/%s: worker died", j->module,
				j->version);
		off = 7;
	}
	close(j->fd);
	j->fd = -1;
	/* The report, not the exit status, says how the job went. */
	child_reap(j->pid, NULL);
	j->state = st >= JOB_OK && st <= JOB_EXCLUDED ? (enum job_state)st
						      : JOB_FAIL;
	j->timed_out = ts;
	j->changed = ch;
	j->message = buf ? strdup(buf + off) : NULL;
	e->free_jobs += j->jobs;
}

/* ---- scheduling ---- */

static struct job *find_job(struct engine *e, const char *m)
{
	for (size_t i = 0; i < e->n; i++)
		if (streq(e->j[i].module, m))
			return &e->j[i];
	return NULL;
}

/* 1 ready, 0 wait, -1 never (a dependency failed or cannot come). */
static int deps_ready(struct engine *e, struct job *j, const char **missing)
{
	for (char **d = j->deps; d && *d; d++) {
		struct job *dj = find_job(e, *d);
		_cleanup_(freep) char *iv = NULL;

		if (dj && dj->state == JOB_OK)
			continue;
		if (dj && (dj->state == JOB_WAIT || dj->state == JOB_RUN))
			return 0;
		iv = reg_installed_version(e->c, *d, e->o->kernel, e->o->arch);
		if (iv && (!dj || e->o->action != ENGINE_INSTALL))
			continue;
		*missing = *d;
		return -1;
	}
	return 1;
}

static size_t count_ready(struct engine *e)
{
	const char *miss;
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		if (e->j[i].state == JOB_WAIT &&
		    deps_ready(e, &e->j[i], &miss) == 1)
			n++;
	return n;
}

/* Start what can start; fail what never can.  Returns jobs running. */
static int schedule(struct engine *e, size_t *running)
{
	for (size_t i = 0; i < e->n; i++) {
		struct job *j = &e->j[i];
		const char *miss = NULL;
		size_t ready;
		int d, r;

		if (j->state != JOB_WAIT)
			continue;
		d = deps_ready(e, j, &miss);
		if (d < 0) {
			j->state = JOB_FAIL;
			j->message = xasprintf("%s/%s for %s (%s): not built: "
					       "missing dependency %s",
					       j->module, j->version,
					       e->o->kernel, e->o->arch, miss);
			continue;
		}
		if (d == 0 || e->free_jobs == 0)
			continue;
		ready = count_ready(e);
		r = start(e, j, e->free_jobs / (ready ? ready : 1) ?: 1);
		if (r < 0)
			return r;
		(*running)++;
	}
	return 0;
}

static struct job *job_by_pid_fd(struct engine *e, int fd)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->j[i].state == JOB_RUN && e->j[i].fd == fd)
			return &e->j[i];
	return NULL;
}

/* Wait for the first worker to report. */
static int wait_one(struct engine *e)
{
	struct pollfd pf[64];
	nfds_t n = 0;

	for (size_t i = 0; i < e->n && n < ARRAY_SIZE(pf); i++)
		if (e->j[i].state == JOB_RUN)
			pf[n++] = (struct pollfd){.fd = e->j[i].fd,
						  .events = POLLIN};
	if (n == 0)
		return 0;
	while (poll(pf, n, -1) < 0)
		if (errno != EINTR)
			return -errno;
	for (nfds_t i = 0; i < n; i++)
		if (pf[i].revents)
			finish(e, job_by_pid_fd(e, pf[i].fd));
	return 1;
}

static int run_all(struct engine *e)
{
	for (;;) {
		size_t running = 0;
		int r;

		for (size_t i = 0; i < e->n; i++)
			running += e->j[i].state == JOB_RUN;
		r = schedule(e, &running);
		if (r < 0)
			return r;
		if (running == 0)
			break;
		r = wait_one(e);
		if (r < 0)
			return r;
	}
	/* Anything still waiting waits for something that never came. */
	for (size_t i = 0; i < e->n; i++)
		if (e->j[i].state == JOB_WAIT) {
			e->j[i].state = JOB_FAIL;
			e->j[i].message = xasprintf(
				"%s/%s: dependencies never became available",
				e->j[i].module, e->j[i].version);
		}
	return 0;
}

static int run_uninstall(struct engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		struct job *j = &e->j[i];
		struct install_req q = {.module = j->module,
					.version = j->version,
					.kernel = e->o->kernel,
					.arch = e->o->arch,
					.force = e->o->force,
					.timeout_ms = e->o->timeout_ms,
					.deadline_ns = j->deadline =
						package_deadline(e->o),
					.run_scripts = e->o->run_scripts};
		struct install_result ir = {0};
		int r = uninstall_package(e->c, &q, &ir);

		j->state = r < 0 ? JOB_FAIL : JOB_OK;
		j->timed_out = ir.status == INSTALL_TIMEOUT;
		j->changed = r == 0 && ir.status == INSTALL_DONE;
		j->message = TAKE_PTR(ir.message);
		install_result_free(&ir);
	}
	return 0;
}

/* The jobs' outcomes, handed over to the caller. */
static int results(struct engine *e, struct engine_result *res)
{
	static const enum engine_state states[] = {
		[JOB_WAIT] = ENGINE_WAITING,
		[JOB_RUN] = ENGINE_RUNNING,
		[JOB_OK] = ENGINE_OK,
		[JOB_FAIL] = ENGINE_FAILED,
		[JOB_EXCLUDED] = ENGINE_EXCLUDED,
	};

	res->p = calloc(e->n ? e->n : 1, sizeof(*res->p));
	if (!res->p)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		struct job *j = &e->j[i];

		res->p[i] = (struct engine_pkg){
			.module = TAKE_PTR(j->module),
			.version = TAKE_PTR(j->version),
			.state = states[j->state],
			.timed_out = j->timed_out,
			.message = TAKE_PTR(j->message),
		};
	}
	res->n = e->n;
	return 0;
}

void engine_result_free(struct engine_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->p[i].module);
		free(res->p[i].version);
		free(res->p[i].message);
	}
	free(res->p);
	*res = (struct engine_result){0};
}

int engine_run(struct dkb_ctx *c, const struct engine_opts *o,
	       struct engine_result *res)
{
	struct engine e = {.c = c, .o = o};
	unsigned long long last = 0;
	bool changed = false;
	int r;

	*res = (struct engine_result){0};
	e.free_jobs =
		o->jobs ? o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (!e.free_jobs)
		e.free_jobs = 1;
	r = collect(&e);
	if (r == 0)
		r = o->action == ENGINE_UNINSTALL ? run_uninstall(&e)
						  : run_all(&e);
	for (size_t i = 0; r == 0 && i < e.n; i++) {
		changed |= e.j[i].changed;
		/* depmod runs once for all, within the latest budget. */
		if (e.j[i].changed && e.j[i].deadline > last)
			last = e.j[i].deadline;
	}
	if (changed) {
		int d = run_depmod(c, o->kernel, deadline_remaining_ms(last));

		if (d < 0) {
			log_err("depmod for %s %s: modules are installed but "
				"not indexed",
				o->kernel,
				d == -ETIME ? "reached the time limit"
					    : "failed");
			res->depmod_failed = true;
			res->depmod_timed_out = d == -ETIME;
		}
	}
	if (r == 0)
		r = results(&e, res);
	engine_free(&e);
	return r;
}
