// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A reader for dkms.conf files that only assign variables.  It follows
 * bash 5.2's lexer closely enough to give bash's values for the subset it
 * accepts, and refuses everything else: a refusal only costs a fork of
 * bash, a wrong value breaks a module build.  Whenever bash's behaviour
 * was not certain, the construct is refused rather than modelled.
 *
 * Bash removes backslash-newline pairs as it reads its input, everywhere
 * except inside single quotes, in comments and right after an escaping
 * backslash; the reader mirrors that with two ways of taking a character:
 * get_cont() (continuations removed) and get_raw().
 */
#include <stdarg.h>
#include <stdint.h>

#include "conf/native.h"
#include "lib/buffer.h"
#include "lib/why.h"

#define LEX_EOF (-1)

/*
 * Limits that keep hostile input linear: every byte of every value is
 * counted against one budget (so "A=$A$A" lines cannot double their way
 * to gigabytes), and the number of new variables is capped because
 * vars_find() is a linear scan.
 */
#define CONF_NATIVE_MAX_OUTPUT	 (16u << 20)
#define CONF_NATIVE_MAX_NEW_VARS 256

struct lexer {
	const char *buf;
	size_t len, pos;
	unsigned line;
	int last; /* the last character taken, for tilde expansion */
	struct vars *scope;
	struct conf_diag *diag;
	struct buffer name; /* the variable assigned */
	struct buffer ref;  /* the variable expanded */
	struct buffer val;
	size_t output;	 /* value bytes produced so far */
	size_t new_vars; /* variables created by the file */
};

static int refuse_at(struct lexer *lx, unsigned line, const char *fmt, ...)
	_printf_(3, 4);

/* Fill diag with "line N: why" and return -ENOTSUP. */
static int refuse_at(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	char subject[sizeof("line ") + 10];
	va_list ap;
	int n;

	lx->diag->line = line;
	n = snprintf(subject, sizeof(subject), "line %u", line);
	va_start(ap, fmt);
	why_vabout(lx->diag->reason, sizeof(lx->diag->reason), -ENOTSUP,
		   subject, (size_t)n, fmt, ap);
	va_end(ap);
	return -ENOTSUP;
}

#define refuse(lx, ...) refuse_at((lx), (lx)->line, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Character input */

static void skip_cont(struct lexer *lx)
{
	while (lx->len - lx->pos >= 2 && lx->buf[lx->pos] == '\\' &&
	       lx->buf[lx->pos + 1] == '\n') {
		lx->pos += 2;
		lx->line++;
	}
}

static int peek_raw(const struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->buf[lx->pos] : LEX_EOF;
}

static int get_raw(struct lexer *lx)
{
	int c = peek_raw(lx);

	if (c == LEX_EOF)
		return c;
	lx->pos++;
	if (c == '\n')
		lx->line++;
	lx->last = c;
	return c;
}

/*
 * Dropping the continuations for good while peeking is safe: the next
 * character is then always taken with get_cont(), and raw reads only ever
 * start right after a consumed quote, '#' or backslash.
 */
static int peek_cont(struct lexer *lx)
{
	skip_cont(lx);
	return peek_raw(lx);
}

static int get_cont(struct lexer *lx)
{
	skip_cont(lx);
	return get_raw(lx);
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_start(int c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* The metacharacters that end a word and start an operator. */
static bool is_operator(int c)
{
	return c == '&' || c == '|' || c == '<' || c == '>' || c == '(' ||
	       c == ')';
}

/* A character for a message: the byte itself when printable. */
static const char *show_char(int c, char tmp[8])
{
	if (c == LEX_EOF)
		return "end of file";
	if (c > ' ' && c < 0x7f)
		snprintf(tmp, 8, "'%c'", c);
	else
		snprintf(tmp, 8, "0x%02x", (unsigned)c & 0xffu);
	return tmp;
}

/*
 * Bash uses 0x01 and 0x7f internally to mark quoted characters and has
 * had bugs with them in input; NUL ends a line early.  None belongs in a
 * dkms.conf, so such a file is refused up front.
 */
static int check_bytes(struct lexer *lx)
{
	unsigned line = 1;

	for (size_t i = 0; i < lx->len; i++) {
		unsigned char c = (unsigned char)lx->buf[i];

		if (c == '\n')
			line++;
		else if (c == 0 || c == 0x01 || c == 0x7f)
			return refuse_at(lx, line, "control byte 0x%02x",
					 (unsigned)c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Names and indexes */

/*
 * Variables bash gives a meaning of its own (dynamic values, effects of
 * an assignment, readonly) and those of dkms's safe_source() that the
 * copy-out step relies on: IFS changes the folding, DKMS_DIRECTIVE* are
 * copied out too, export_envs and dkms's own readonly variables make an
 * assignment fail.  Neither assigned nor read natively.
 */
static bool name_is_special(const char *name)
{
	static const char *const prefixes[] = {"BASH", "COMP_", "LC_", "HIST",
					       "DKMS_DIRECTIVE"};
	static const char *const names[] = {
		"_",
		"IFS",
		"RANDOM",
		"SRANDOM",
		"SECONDS",
		"LINENO",
		"EPOCHSECONDS",
		"EPOCHREALTIME",
		"DIRSTACK",
		"FUNCNAME",
		"FUNCNEST",
		"GROUPS",
		"PIPESTATUS",
		"PPID",
		"UID",
		"EUID",
		"SHELLOPTS",
		"OPTIND",
		"OPTARG",
		"OPTERR",
		"POSIXLY_CORRECT",
		"LANG",
		"LANGUAGE",
		"TEXTDOMAIN",
		"TEXTDOMAINDIR",
		"HOME",
		"PWD",
		"OLDPWD",
		"GLOBIGNORE",
		"GLOBSORT",
		"PATH",
		"CDPATH",
		"PS1",
		"PS2",
		"PS4",
		"TZ",
		"TERM",
		"IGNOREEOF",
		"SHLVL",
		"MAIL",
		"MAILPATH",
		"MAILCHECK",
		"TMOUT",
		"INPUTRC",
		"ENV",
		"export_envs",
		"_export_env",
		"_i",
		"dkms_conf_variables",
		"dkms_framework_nonsigning_variables",
		"dkms_framework_signing_variables",
		"mv_re"};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (startswith(name, prefixes[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(name, names[i]))
			return true;
	return false;
}

/* Take a name whose first character is known to be valid. */
static int read_name(struct lexer *lx, struct buffer *name)
{
	buffer_truncate(name, 0);
	while (is_name_char(peek_cont(lx))) {
		char c = (char)get_cont(lx);
		int r = buffer_append(name, &c, 1);

		if (r < 0)
			return r;
	}
	/* In a non-UTF-8 locale bash could take such a byte as part of the
	 * name. */
	if (peek_cont(lx) >= 0x80)
		return refuse(lx, "a name followed by a non-ASCII byte");
	return 0;
}

/*
 * After '[': a subscript up to ']'.  Bash evaluates it as arithmetic, so
 * only plain decimal numbers are taken; a leading zero would mean octal.
 */
static int read_index(struct lexer *lx, size_t *idx)
{
	size_t v = 0, digits = 0;
	bool zero = false;
	int c;

	while ((c = get_cont(lx)) >= '0' && c <= '9') {
		if (digits++ == 0)
			zero = c == '0';
		else if (zero)
			return refuse(
				lx,
				"an index with a leading zero (octal in bash)");
		v = v * 10 + (size_t)(c - '0');
		if (v > VARS_MAX_INDEX)
			return refuse(lx, "an index above %d", VARS_MAX_INDEX);
	}
	if (digits == 0 || c != ']')
		return refuse(lx, "an index that is not a decimal number");
	*idx = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Values */

static int add_out(struct lexer *lx, const char *s, size_t n)
{
	if (n > CONF_NATIVE_MAX_OUTPUT - lx->output ||
	    lx->val.len > CONF_NATIVE_MAX_OUTPUT - lx->output - n)
		return refuse(lx, "values larger than %u MiB in total",
			      CONF_NATIVE_MAX_OUTPUT >> 20);
	return buffer_append(&lx->val, s, n);
}

static int add_char(struct lexer *lx, int c)
{
	char ch = (char)c;

	return add_out(lx, &ch, 1);
}

/* The value of NAME[idx] (lx->ref) appended to the value. */
static int expand(struct lexer *lx, size_t idx)
{
	const char *name = lx->ref.data;
	const char *s;

	if (name_is_special(name))
		return refuse(lx, "variable %.40s is special to bash or dkms",
			      name);
	if (!vars_find(lx->scope, name))
		return refuse(lx, "variable %.40s is not known here", name);
	s = vars_get(lx->scope, name, idx);
	return s ? add_out(lx, s, strlen(s)) : 0;
}

/* After "${": only ${NAME} and ${NAME[N]}. */
static int parse_braced(struct lexer *lx)
{
	size_t idx = 0;
	char tmp[8];
	int r, c;

	if (!is_name_start(peek_cont(lx)))
		return refuse(lx,
			      "parameter expansion ${ followed by %s is not "
			      "understood",
			      show_char(peek_cont(lx), tmp));
	r = read_name(lx, &lx->ref);
	if (r < 0)
		return r;
	c = get_cont(lx);
	if (c == '[') {
		r = read_index(lx, &idx);
		if (r < 0)
			return r;
		c = get_cont(lx);
	}
	if (c != '}')
		return refuse(lx, "parameter expansion operator in ${%.40s...}",
			      lx->ref.data);
	return expand(lx, idx);
}

/*
 * Characters after which a '$' stays literal (checked against bash 5.2:
 * "a$/b$.c$" and friends).  Anything else is an expansion form we do not
 * model or a character not worth the risk.
 */
static bool dollar_is_literal(int c, bool in_dq)
{
	if (c == LEX_EOF || c == ';')
		return !in_dq;
	if (c == '"')
		return in_dq;
	return c == ' ' || c == '\t' || c == '\n' ||
	       (c != 0 && strchr("/.,:=+%]}", c));
}

/* After '$' (already taken). */
static int parse_dollar(struct lexer *lx, bool in_dq)
{
	int c = peek_cont(lx), r;
	char tmp[8];

	if (c == '{') {
		get_cont(lx);
		return parse_braced(lx);
	}
	if (is_name_start(c)) {
		r = read_name(lx, &lx->ref);
		return r < 0 ? r : expand(lx, 0);
	}
	if (dollar_is_literal(c, in_dq))
		return add_char(lx, '$');
	if (c == '(')
		return refuse(lx, "command substitution $(...) or arithmetic "
				  "$((...)) is not understood");
	if (c == '[')
		return refuse(lx, "arithmetic $[...] is not understood");
	if (c == '\'')
		return refuse(lx, "ANSI-C quoting $'...' is not understood");
	if (c == '"')
		return refuse(lx, "locale quoting $\"...\" is not understood");
	if ((c >= '0' && c <= '9') || (c > 0 && strchr("@*#?-$!", c)))
		return refuse(lx, "special parameter $%c is not understood", c);
	return refuse(lx, "'$' followed by %s is not understood",
		      show_char(c, tmp));
}

/* After a single quote: everything literal up to the next one. */
static int parse_squote(struct lexer *lx)
{
	unsigned line = lx->line;
	size_t start = lx->pos;
	const char *end = memchr(lx->buf + start, '\'', lx->len - start);

	if (!end)
		return refuse_at(lx, line, "unterminated single quote");
	while (lx->buf + lx->pos < end)
		get_raw(lx);
	get_raw(lx);
	return add_out(lx, lx->buf + start, (size_t)(end - lx->buf) - start);
}

/* Inside double quotes, a backslash quotes only these. */
static int parse_dq_backslash(struct lexer *lx)
{
	int c = peek_raw(lx);

	if (c == '$' || c == '`' || c == '"' || c == '\\')
		return add_char(lx, get_raw(lx));
	return add_char(lx, '\\');
}

/* After a double quote. */
static int parse_dquote(struct lexer *lx)
{
	unsigned line = lx->line;

	for (;;) {
		int c = get_cont(lx), r;

		switch (c) {
		case LEX_EOF:
			return refuse_at(lx, line, "unterminated double quote");
		case '"':
			return 0;
		case '\\':
			r = parse_dq_backslash(lx);
			break;
		case '$':
			r = parse_dollar(lx, true);
			break;
		case '`':
			return refuse(
				lx,
				"command substitution `...` is not understood");
		default:
			r = add_char(lx, c);
			break;
		}
		if (r < 0)
			return r;
	}
}

/* An unquoted backslash: the next character, whatever it is. */
static int parse_backslash(struct lexer *lx)
{
	int c = get_raw(lx);

	/* bash keeps the backslash; not worth modelling */
	if (c == LEX_EOF)
		return refuse(lx, "backslash at end of file");
	return add_char(lx, c);
}

/*
 * Bash expands an unquoted '~' at the start of an assignment's value and
 * after ':' (and, we do not check exactly when, '='): it depends on $HOME
 * and the password database, so it is refused.  "1.0~rc1" is literal.
 */
static int parse_tilde(struct lexer *lx, bool at_start)
{
	if (at_start || lx->last == ':' || lx->last == '=')
		return refuse(lx, "tilde expansion is not understood");
	return add_char(lx, get_cont(lx));
}

static int parse_value_char(struct lexer *lx, int c, bool at_start)
{
	char tmp[8];

	if (c == '~')
		return parse_tilde(lx, at_start);
	get_cont(lx);
	switch (c) {
	case '\'':
		return parse_squote(lx);
	case '"':
		return parse_dquote(lx);
	case '\\':
		return parse_backslash(lx);
	case '$':
		return parse_dollar(lx, false);
	case '`':
		return refuse(lx,
			      "command substitution `...` is not understood");
	default:
		if (is_operator(c))
			return refuse(
				lx, "unquoted %s in a value is not understood",
				show_char(c, tmp));
		return add_char(lx, c);
	}
}

/* The word after '=', up to a blank, newline, ';' or the end. */
static int parse_value(struct lexer *lx)
{
	bool at_start = true;
	int c;

	buffer_truncate(&lx->val, 0);
	if (peek_cont(lx) == '(')
		return refuse(lx,
			      "array assignment %.40s=(...) is not understood",
			      lx->name.data);
	while ((c = peek_cont(lx)) != LEX_EOF && !is_blank(c) && c != '\n' &&
	       c != ';') {
		int r = parse_value_char(lx, c, at_start);

		if (r < 0)
			return r;
		at_start = false;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Words and lines */

static bool is_keyword(const char *w)
{
	static const char *const kw[] = {
		"if",	"then",	  "else",     "elif", "fi",   "case", "esac",
		"for",	"while",  "until",    "do",   "done", "in",   "select",
		"time", "coproc", "function", "{",    "}",    "!",    "[["};

	for (size_t i = 0; i < ARRAY_SIZE(kw); i++)
		if (streq(w, kw[i]))
			return true;
	return false;
}

/* A word that is not an assignment: name it in the message. */
static int refuse_command(struct lexer *lx, size_t start, unsigned line)
{
	char word[33];
	size_t n = 0;

	for (size_t i = start; i < lx->len && n < sizeof(word) - 1; i++) {
		int c = (unsigned char)lx->buf[i];

		if (is_blank(c) || c == '\n' || c == ';' || is_operator(c))
			break;
		word[n++] = c > ' ' && c < 0x7f ? (char)c : '?';
	}
	word[n] = '\0';
	if (lx->buf[start] == '\r')
		return refuse_at(
			lx, line,
			"a carriage return (DOS line end) starts a command");
	if (n == 0)
		return refuse_at(lx, line, "unquoted %c is not understood",
				 lx->buf[start]);
	if (is_keyword(word))
		return refuse_at(lx, line,
				 "shell keyword '%s' is not understood", word);
	return refuse_at(
		lx, line,
		"command '%s' is not understood (only assignments are)", word);
}

/* The left side, NAME= or NAME[N]=; *idx gets N. */
static int parse_lhs(struct lexer *lx, size_t *idx)
{
	size_t start = lx->pos;
	unsigned line = lx->line;
	int r, c;

	if (!is_name_start(peek_cont(lx)))
		return refuse_command(lx, start, line);
	r = read_name(lx, &lx->name);
	if (r < 0)
		return r;
	*idx = 0;
	c = get_cont(lx);
	if (c == '[') {
		r = read_index(lx, idx);
		if (r < 0)
			return r;
		c = get_cont(lx);
	}
	if (c == '+' && peek_cont(lx) == '=')
		return refuse(lx,
			      "appending assignment %.40s+= is not understood",
			      lx->name.data);
	if (c != '=')
		return refuse_command(lx, start, line);
	if (name_is_special(lx->name.data))
		return refuse(lx,
			      "assignment to %.40s, special to bash or dkms",
			      lx->name.data);
	return 0;
}

static int parse_assignment(struct lexer *lx)
{
	size_t idx;
	int r = parse_lhs(lx, &idx);

	if (r < 0)
		return r;
	r = parse_value(lx);
	if (r < 0)
		return r;
	if (!vars_find(lx->scope, lx->name.data) &&
	    ++lx->new_vars > CONF_NATIVE_MAX_NEW_VARS)
		return refuse(lx, "more than %d variables",
			      CONF_NATIVE_MAX_NEW_VARS);
	r = vars_set(lx->scope, lx->name.data, idx,
		     lx->val.data ? lx->val.data : "");
	if (r < 0)
		return r;
	lx->output += lx->val.len;
	return 0;
}

/* A comment runs to the end of the line; no continuation inside. */
static void skip_comment(struct lexer *lx)
{
	while (peek_raw(lx) != LEX_EOF && peek_raw(lx) != '\n')
		get_raw(lx);
}

static int parse_file(struct lexer *lx)
{
	unsigned words = 0; /* assignments in the current command */

	for (;;) {
		int c = peek_cont(lx), r;

		if (c == LEX_EOF)
			return 0;
		if (is_blank(c) || c == '\n' || c == ';' || c == '#') {
			if (c == ';' && words == 0)
				return refuse(
					lx, "';' without a command before it");
			get_cont(lx);
			if (c == '\n' || c == ';')
				words = 0;
			else if (c == '#')
				skip_comment(lx);
			continue;
		}
		r = parse_assignment(lx);
		if (r < 0)
			return r;
		words++;
	}
}

int conf_native_source(const char *buf, size_t len, struct vars *scope,
		       struct conf_diag *diag)
{
	struct conf_diag dummy;
	struct lexer lx = {
		.buf = len ? buf : "",
		.len = len,
		.line = 1,
		.last = LEX_EOF,
		.scope = scope,
		.diag = diag ? diag : &dummy,
	};
	int r;

	*lx.diag = (struct conf_diag){0};
	r = check_bytes(&lx);
	if (r == 0)
		r = parse_file(&lx);
	if (r == -ENOMEM)
		refuse(&lx, "out of memory");
	buffer_free(&lx.name);
	buffer_free(&lx.ref);
	buffer_free(&lx.val);
	return r;
}

/* ------------------------------------------------------------------ */
/* The copy out of dkms's subshell */

static int refuse_value(struct conf_diag *diag, const char *why)
{
	if (!diag)
		return -ENOTSUP;
	diag->line = 0;
	return why_set(diag->reason, sizeof(diag->reason), -ENOTSUP,
		       "a value with %s is re-expanded by dkms", why);
}

/*
 * The printed line is NAME[i]="value": inside those double quotes, these
 * would expand or end the quote.  A final backslash would quote the
 * closing '"'.  Verified against bash 5.2 with dkms's own
 * eval echo '$_export_env[$_i]=\"${'$_export_env'[$_i]}\"'.
 */
static int reexport_check(const char *val, struct conf_diag *diag)
{
	for (const char *p = val; *p; p++) {
		if (*p == '$' || *p == '`' || *p == '"')
			return refuse_value(diag, "'$', '`' or '\"'");
		if (*p == '\\' && (p[1] == '\0' || strchr("$`\"\\\n", p[1])))
			return refuse_value(diag, "a quoting backslash");
	}
	return 0;
}

int conf_native_reexport(char *val, struct conf_diag *diag)
{
	size_t out = 0;
	bool blank = false;
	int r = reexport_check(val, diag);

	if (r < 0)
		return r;
	/* Unquoted ${NAME[i]}: split on IFS (space, tab, newline), and
	 * echo joins the words with one space.  A blank run at either end
	 * splits off the surrounding NAME[i]=" and ", hence one space. */
	for (const char *p = val; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			blank = true;
			continue;
		}
		if (blank)
			val[out++] = ' ';
		blank = false;
		val[out++] = *p;
	}
	if (blank)
		val[out++] = ' ';
	val[out] = '\0';
	if (diag)
		*diag = (struct conf_diag){0};
	return 0;
}
