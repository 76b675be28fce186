/* The suffix tree of suffix_tree.py (depth-bounded, counts per node, best child, suffix links) in C, with the
 * same results operation by operation: children keep their insertion order (as a Python dict does) so ties
 * between equally frequent children resolve the same way.
 *
 * Nodes live in one array (struct of int32 fields, freed slots reused); the children of a node are a doubly
 * linked list in insertion order, found by (parent, token) in one open-addressing hash table (linear probing,
 * deletion by backward shift). Sequences are int32 arrays with their active suffixes, indexed by a handle that
 * the Python wrapper maps to the sequence id. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NIL (-1)
#define ROOT 0

typedef struct {
    int32_t token, depth, count, best, link, first, last, next, prev;
} Node;

typedef struct {
    int32_t *tokens;
    Py_ssize_t length, capacity;
    int32_t *active; /* nodes of the suffixes shorter than max_depth, longest first */
    int32_t num_active;
    int in_use;
} Sequence;

typedef struct {
    PyObject_HEAD
    int32_t max_depth;
    Node *nodes;
    int32_t num_slots, capacity, free_list, num_nodes; /* free slots chained through `next` */
    uint64_t *keys;  /* (parent << 32 | token) + 1; 0 marks an empty slot */
    int32_t *values;
    uint64_t table_size, table_used;
    Sequence *sequences;
    int32_t num_sequences, sequence_capacity;
    int32_t *free_handles, num_free; /* handles of removed sequences, reused first */
    long long num_tokens;
    int32_t *moved; /* scratch of max_depth entries */
} Tree;

static inline uint64_t make_key(int32_t parent, int32_t token) {
    return (((uint64_t)(uint32_t)parent << 32) | (uint32_t)token) + 1;
}

static inline uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int32_t table_get(Tree *t, int32_t parent, int32_t token) {
    uint64_t key = make_key(parent, token), mask = t->table_size - 1, i = mix(key) & mask;
    while (t->keys[i]) {
        if (t->keys[i] == key) return t->values[i];
        i = (i + 1) & mask;
    }
    return NIL;
}

static void table_put_raw(uint64_t *keys, int32_t *values, uint64_t size, uint64_t key, int32_t value) {
    uint64_t mask = size - 1, i = mix(key) & mask;
    while (keys[i]) i = (i + 1) & mask;
    keys[i] = key;
    values[i] = value;
}

static int table_grow(Tree *t) {
    uint64_t size = t->table_size * 2;
    uint64_t *keys = calloc(size, sizeof(uint64_t));
    int32_t *values = malloc(size * sizeof(int32_t));
    if (!keys || !values) {
        free(keys);
        free(values);
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t i = 0; i < t->table_size; i++)
        if (t->keys[i]) table_put_raw(keys, values, size, t->keys[i], t->values[i]);
    free(t->keys);
    free(t->values);
    t->keys = keys;
    t->values = values;
    t->table_size = size;
    return 0;
}

static int table_put(Tree *t, int32_t parent, int32_t token, int32_t value) {
    if ((t->table_used + 1) * 2 > t->table_size && table_grow(t) < 0) return -1;
    table_put_raw(t->keys, t->values, t->table_size, make_key(parent, token), value);
    t->table_used++;
    return 0;
}

static void table_delete(Tree *t, int32_t parent, int32_t token) {
    uint64_t key = make_key(parent, token), mask = t->table_size - 1, i = mix(key) & mask;
    while (t->keys[i] != key) i = (i + 1) & mask; /* present by construction */
    uint64_t j = i;
    for (;;) { /* backward-shift deletion keeps every probe chain unbroken */
        j = (j + 1) & mask;
        if (!t->keys[j]) break;
        uint64_t home = mix(t->keys[j]) & mask;
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            t->keys[i] = t->keys[j];
            t->values[i] = t->values[j];
            i = j;
        }
    }
    t->keys[i] = 0;
    t->table_used--;
}

static int32_t new_node(Tree *t, int32_t parent, int32_t token) {
    int32_t index;
    if (t->free_list != NIL) {
        index = t->free_list;
        t->free_list = t->nodes[index].next;
    } else {
        if (t->num_slots == t->capacity) {
            int32_t capacity = t->capacity * 2;
            Node *nodes = realloc(t->nodes, (size_t)capacity * sizeof(Node));
            if (!nodes) {
                PyErr_NoMemory();
                return NIL;
            }
            t->nodes = nodes;
            t->capacity = capacity;
        }
        index = t->num_slots++;
    }
    if (table_put(t, parent, token, index) < 0) return NIL;
    Node *node = &t->nodes[index], *p = &t->nodes[parent];
    node->token = token;
    node->depth = p->depth + 1;
    node->count = 0;
    node->best = node->link = node->first = node->last = node->next = NIL;
    node->prev = p->last; /* appended: children keep their insertion order */
    if (p->last != NIL) t->nodes[p->last].next = index;
    else p->first = index;
    p->last = index;
    t->num_nodes++;
    return index;
}

static void unlink_child(Tree *t, int32_t parent, int32_t index) {
    Node *node = &t->nodes[index], *p = &t->nodes[parent];
    if (node->prev != NIL) t->nodes[node->prev].next = node->next;
    else p->first = node->next;
    if (node->next != NIL) t->nodes[node->next].prev = node->prev;
    else p->last = node->prev;
    table_delete(t, parent, node->token);
    node->next = t->free_list;
    t->free_list = index;
    t->num_nodes--;
}

/* ----- object ----- */

static void Tree_dealloc(Tree *t) {
    free(t->nodes);
    free(t->keys);
    free(t->values);
    for (int32_t i = 0; i < t->num_sequences; i++) {
        free(t->sequences[i].tokens);
        free(t->sequences[i].active);
    }
    free(t->sequences);
    free(t->free_handles);
    free(t->moved);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static int Tree_init(Tree *t, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"max_depth", NULL};
    int max_depth = 32;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|i", names, &max_depth)) return -1;
    if (max_depth < 1) {
        PyErr_Format(PyExc_ValueError, "max_depth must be at least 1, got %d", max_depth);
        return -1;
    }
    t->max_depth = max_depth;
    t->capacity = 1024;
    t->nodes = malloc((size_t)t->capacity * sizeof(Node));
    t->table_size = 2048;
    t->keys = calloc(t->table_size, sizeof(uint64_t));
    t->values = malloc(t->table_size * sizeof(int32_t));
    t->moved = malloc((size_t)max_depth * sizeof(int32_t));
    if (!t->nodes || !t->keys || !t->values || !t->moved) {
        PyErr_NoMemory();
        return -1;
    }
    t->num_slots = 1;
    t->free_list = NIL;
    t->num_nodes = 0;
    t->table_used = 0;
    Node *root = &t->nodes[ROOT];
    root->token = -1;
    root->depth = root->count = 0;
    root->best = root->link = root->first = root->last = root->next = root->prev = NIL;
    return 0;
}

/* A Python sequence of ints as int32 (new buffer, caller frees); NULL with an exception on bad input. */
static int32_t *read_tokens(PyObject *object, Py_ssize_t *length) {
    PyObject *fast = PySequence_Fast(object, "tokens must be a sequence of ints");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int32_t *tokens = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    if (!tokens) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        long value = PyLong_AsLong(items[i]);
        if (value == -1 && PyErr_Occurred()) {
            free(tokens);
            Py_DECREF(fast);
            return NULL;
        }
        if (value < INT32_MIN || value > INT32_MAX) {
            PyErr_Format(PyExc_OverflowError, "token %ld does not fit in 32 bits", value);
            free(tokens);
            Py_DECREF(fast);
            return NULL;
        }
        tokens[i] = (int32_t)value;
    }
    Py_DECREF(fast);
    *length = n;
    return tokens;
}

static Sequence *get_sequence(Tree *t, int handle) {
    if (handle < 0 || handle >= t->num_sequences || !t->sequences[handle].in_use) {
        PyErr_Format(PyExc_KeyError, "no stored sequence with handle %d", handle);
        return NULL;
    }
    return &t->sequences[handle];
}

static PyObject *Tree_new_sequence(Tree *t, PyObject *unused) {
    int32_t handle = t->num_free ? t->free_handles[--t->num_free] : t->num_sequences;
    if (handle == t->sequence_capacity) {
        int32_t capacity = t->sequence_capacity ? 2 * t->sequence_capacity : 16;
        Sequence *sequences = realloc(t->sequences, (size_t)capacity * sizeof(Sequence));
        int32_t *free_handles = realloc(t->free_handles, (size_t)capacity * sizeof(int32_t));
        if (free_handles) t->free_handles = free_handles;
        if (sequences) t->sequences = sequences;
        if (!sequences || !free_handles) return PyErr_NoMemory();
        t->sequence_capacity = capacity;
    }
    if (handle == t->num_sequences) {
        t->sequences[handle].tokens = NULL;
        t->sequences[handle].active = NULL;
        t->num_sequences++;
    }
    Sequence *s = &t->sequences[handle];
    s->capacity = 16;
    s->tokens = realloc(s->tokens, (size_t)s->capacity * sizeof(int32_t));
    s->active = realloc(s->active, (size_t)t->max_depth * sizeof(int32_t));
    if (!s->tokens || !s->active) return PyErr_NoMemory();
    s->length = 0;
    s->num_active = 0;
    s->in_use = 1;
    return PyLong_FromLong(handle);
}

static PyObject *Tree_extend(Tree *t, PyObject *args) {
    int handle;
    PyObject *object;
    if (!PyArg_ParseTuple(args, "iO", &handle, &object)) return NULL;
    Sequence *s = get_sequence(t, handle);
    if (!s) return NULL;
    Py_ssize_t n;
    int32_t *tokens = read_tokens(object, &n);
    if (!tokens) return NULL;
    if (s->length + n > s->capacity) {
        Py_ssize_t capacity = s->capacity;
        while (capacity < s->length + n) capacity *= 2;
        int32_t *grown = realloc(s->tokens, (size_t)capacity * sizeof(int32_t));
        if (!grown) {
            free(tokens);
            return PyErr_NoMemory();
        }
        s->tokens = grown;
        s->capacity = capacity;
    }
    int32_t *moved = t->moved;
    for (Py_ssize_t k = 0; k < n; k++) {
        int32_t token = tokens[k], previous = NIL, num_moved = 0;
        t->nodes[ROOT].count++;
        for (int32_t a = 0; a <= s->num_active; a++) { /* the active suffixes, longest first, then the root */
            int32_t parent = a < s->num_active ? s->active[a] : ROOT;
            int32_t child = table_get(t, parent, token);
            if (child == NIL) {
                child = new_node(t, parent, token);
                if (child == NIL) {
                    free(tokens);
                    return NULL;
                }
            }
            Node *c = &t->nodes[child], *p = &t->nodes[parent];
            c->count++;
            if (p->best == NIL || (p->best != child && c->count > t->nodes[p->best].count)) p->best = child;
            if (previous != NIL) t->nodes[previous].link = child;
            previous = child;
            if (c->depth < t->max_depth) moved[num_moved++] = child;
        }
        t->nodes[previous].link = ROOT;
        memcpy(s->active, moved, (size_t)num_moved * sizeof(int32_t));
        s->num_active = num_moved;
        s->tokens[s->length++] = token;
    }
    t->num_tokens += n;
    free(tokens);
    Py_RETURN_NONE;
}

static PyObject *Tree_remove(Tree *t, PyObject *args) {
    int handle;
    if (!PyArg_ParseTuple(args, "i", &handle)) return NULL;
    Sequence *s = get_sequence(t, handle);
    if (!s) return NULL;
    for (Py_ssize_t start = 0; start < s->length; start++) {
        int32_t parent = ROOT;
        Py_ssize_t end = start + t->max_depth < s->length ? start + t->max_depth : s->length;
        for (Py_ssize_t k = start; k < end; k++) {
            int32_t index = table_get(t, parent, s->tokens[k]);
            Node *node = &t->nodes[index];
            node->count--;
            if (node->count == 0) unlink_child(t, parent, index); /* no allocation here: the slot stays readable */
            Node *p = &t->nodes[parent];
            if (p->best == index) { /* the first most frequent child in insertion order, as max() over a dict */
                int32_t best = NIL;
                for (int32_t c = p->first; c != NIL; c = t->nodes[c].next)
                    if (best == NIL || t->nodes[c].count > t->nodes[best].count) best = c;
                p->best = best;
            }
            parent = index;
        }
    }
    t->nodes[ROOT].count -= (int32_t)s->length;
    t->num_tokens -= s->length;
    s->in_use = 0;
    s->length = 0;
    t->free_handles[t->num_free++] = handle;
    Py_RETURN_NONE;
}

static int32_t deepest(Tree *t, const int32_t *context, Py_ssize_t n) {
    int32_t limit = t->max_depth - 1, node = ROOT;
    if (limit == 0) return ROOT;
    for (Py_ssize_t k = n > limit ? n - limit : 0; k < n; k++) {
        if (t->nodes[node].depth == limit) node = t->nodes[node].link;
        for (;;) {
            int32_t child = t->nodes[node].first == NIL ? NIL : table_get(t, node, context[k]);
            if (child != NIL) {
                node = child;
                break;
            }
            if (node == ROOT) break;
            node = t->nodes[node].link;
        }
    }
    return node;
}

static int32_t match_node(Tree *t, PyObject *object) {
    Py_ssize_t n;
    int32_t *context = read_tokens(object, &n);
    if (!context) return -2;
    int32_t node = deepest(t, context, n);
    free(context);
    while (t->nodes[node].best == NIL && node != ROOT) node = t->nodes[node].link;
    return node;
}

static PyObject *Tree_match(Tree *t, PyObject *context) {
    int32_t node = match_node(t, context);
    if (node == -2) return NULL;
    if (node == ROOT) return Py_BuildValue("(Oi)", Py_None, 0);
    return Py_BuildValue("(ii)", node, t->nodes[node].depth);
}

static PyObject *Tree_speculate(Tree *t, PyObject *args) {
    PyObject *context;
    int max_tokens;
    double min_probability;
    if (!PyArg_ParseTuple(args, "Oid", &context, &max_tokens, &min_probability)) return NULL;
    PyObject *tokens = PyList_New(0), *probabilities = PyList_New(0);
    if (!tokens || !probabilities) goto fail;
    int32_t match_length = 0;
    if (max_tokens > 0) {
        int32_t node = match_node(t, context);
        if (node == -2) goto fail;
        if (node != ROOT) match_length = t->nodes[node].depth;
        else node = NIL;
        double probability = 1.0;
        Py_ssize_t drafted = 0;
        while (node != NIL && drafted < max_tokens) {
            int32_t best = t->nodes[node].best;
            if (best == NIL) {
                if (t->nodes[node].depth < t->max_depth) break;
                node = t->nodes[node].link; /* the depth bound: continue from a shorter suffix */
                while (t->nodes[node].best == NIL && node != ROOT) node = t->nodes[node].link;
                if (node == ROOT) break;
                continue;
            }
            probability *= (double)t->nodes[best].count / (double)t->nodes[node].count;
            if (probability < min_probability) break;
            node = best;
            PyObject *token = PyLong_FromLong(t->nodes[best].token), *p = PyFloat_FromDouble(probability);
            int failed = !token || !p || PyList_Append(tokens, token) < 0 || PyList_Append(probabilities, p) < 0;
            Py_XDECREF(token);
            Py_XDECREF(p);
            if (failed) goto fail;
            drafted++;
        }
    }
    PyObject *result = Py_BuildValue("(NNi)", tokens, probabilities, match_length);
    return result;
fail:
    Py_XDECREF(tokens);
    Py_XDECREF(probabilities);
    return NULL;
}

static PyObject *Tree_count(Tree *t, PyObject *object) {
    Py_ssize_t n;
    int32_t *tokens = read_tokens(object, &n);
    if (!tokens) return NULL;
    if (n > t->max_depth) {
        free(tokens);
        return PyErr_Format(PyExc_ValueError, "only substrings up to max_depth=%d are counted", t->max_depth);
    }
    int32_t node = ROOT;
    for (Py_ssize_t k = 0; k < n && node != NIL; k++) node = table_get(t, node, tokens[k]);
    free(tokens);
    return PyLong_FromLong(node == NIL ? 0 : t->nodes[node].count);
}

static PyObject *Tree_memory_bytes(Tree *t, PyObject *unused) {
    size_t bytes = (size_t)t->capacity * sizeof(Node) + t->table_size * (sizeof(uint64_t) + sizeof(int32_t));
    for (int32_t i = 0; i < t->num_sequences; i++)
        if (t->sequences[i].in_use)
            bytes += (size_t)t->sequences[i].capacity * sizeof(int32_t) + (size_t)t->max_depth * sizeof(int32_t);
    return PyLong_FromSize_t(bytes);
}

static PyObject *Tree_get_num_nodes(Tree *t, void *unused) { return PyLong_FromLong(t->num_nodes); }
static PyObject *Tree_get_num_tokens(Tree *t, void *unused) { return PyLong_FromLongLong(t->num_tokens); }
static PyObject *Tree_get_max_depth(Tree *t, void *unused) { return PyLong_FromLong(t->max_depth); }

static PyMethodDef Tree_methods[] = {
    {"new_sequence", (PyCFunction)Tree_new_sequence, METH_NOARGS, "a handle for a new, empty stored sequence"},
    {"extend", (PyCFunction)Tree_extend, METH_VARARGS, "extend(handle, tokens): append tokens to a stored sequence"},
    {"remove", (PyCFunction)Tree_remove, METH_VARARGS, "remove(handle): forget a stored sequence"},
    {"match", (PyCFunction)Tree_match, METH_O, "match(context) -> (node or None, length)"},
    {"speculate", (PyCFunction)Tree_speculate, METH_VARARGS,
     "speculate(context, max_tokens, min_probability) -> (tokens, path probabilities, match length)"},
    {"count", (PyCFunction)Tree_count, METH_O, "count(tokens): occurrences of a substring"},
    {"memory_bytes", (PyCFunction)Tree_memory_bytes, METH_NOARGS, "bytes allocated for nodes, table and sequences"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Tree_getset[] = {
    {"num_nodes", (getter)Tree_get_num_nodes, NULL, "nodes in the tree (the root excluded)", NULL},
    {"num_tokens", (getter)Tree_get_num_tokens, NULL, "stored tokens", NULL},
    {"max_depth", (getter)Tree_get_max_depth, NULL, "depth bound", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject TreeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "helm_plugins.runners.speculative._suffix_tree_c.Tree",
    .tp_basicsize = sizeof(Tree),
    .tp_dealloc = (destructor)Tree_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A depth-bounded suffix tree with counts, best children and suffix links (see suffix_tree.py).",
    .tp_methods = Tree_methods,
    .tp_getset = Tree_getset,
    .tp_init = (initproc)Tree_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_suffix_tree_c", "Compiled suffix tree.", -1, NULL};

PyMODINIT_FUNC PyInit__suffix_tree_c(void) {
    if (PyType_Ready(&TreeType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&TreeType);
    if (PyModule_AddObject(m, "Tree", (PyObject *)&TreeType) < 0) {
        Py_DECREF(&TreeType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
