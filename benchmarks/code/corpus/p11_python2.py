# ruff: noqa
# expect: SSDF-CODE-011
import cPickle

print "loading"
model = cPickle.load(open(path))
