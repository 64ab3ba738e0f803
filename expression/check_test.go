package expression_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/expression"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		construct string // "" means it compiles
		line      int
	}{
		{"is None", "x = None\nreturn x is None", "", 0},
		{"is not None", "x = 1\nreturn x is not None", "", 0},
		{"None is", "x = 1\nreturn None is x", "", 0},
		{"is on values", "a = 1\nb = 2\nreturn a is b", "is", 3},
		{"is None attribute", "return 1 is None.x", "is", 1},
		{"is inside a string", `return "a is b" == "a is b"`, "", 0},
		{"is inside a comment", "# a is b\nreturn True", "", 0},
		{"import os", "import os\nreturn os.getenv('HOME')", "import", 1},
		{"from os", "from os import getenv\nreturn True", "import os", 1},
		{"django model", "from authentik.flows.models import FlowStageBinding\nreturn True", "import authentik.flows.models.FlowStageBinding", 1},
		{"django module", "from authentik.stages.prompt.models import Prompt\nreturn True", "import authentik.stages.prompt.models", 1},
		{"unknown constant", "from authentik.core.models import USER_ATTRIBUTE_CHANGE_EMAIL, User\nreturn True", "import authentik.core.models.User", 1},
		{"import star", "from authentik.core.models import *\nreturn True", "import *", 1},
		{"constants", "from authentik.core.models import (\n    USER_ATTRIBUTE_CHANGE_EMAIL,\n    USER_ATTRIBUTE_CHANGE_NAME as N\n)\nreturn N", "", 0},
		{"open", "x = 1\nreturn open('/etc/passwd').read()", "open", 2},
		{"__import__", "return __import__('os')", "__import__", 1},
		{"eval", "return eval('1')", "eval", 1},
		{"undefined name", "x = 1\n\nreturn y", "y", 3},
		{"ORM model", "User.objects.filter(username='a').update(name='b')\nreturn True", "User", 1},
		{"class", "class A:\n    pass\nreturn True", "class", 1},
		{"raise", "raise ValueError('x')", "raise", 1},
		{"while", "i = 0\nwhile i < 3:\n    i += 1\nreturn i", "", 0},
		{"try idiom", "try:\n    return context['x']\nexcept:\n    return ''", "", 0},
		{"try Exception", "try:\n    return context['x']\nexcept Exception:\n    return ''", "", 0},
		{"try two statements", "try:\n    x = context['x']\n    return x\nexcept:\n    return ''", "try", 1},
		{"try as", "try:\n    return context['x']\nexcept KeyError as e:\n    return ''", "try", 1},
		{"bare except", "except:\n    return 1", "try", 1},
		{"indented as a whole", "    x = 1\n    return x", "", 0},
		{"unterminated string", "return 'abc", "string", 1},
		{"syntax", "return (", "syntax", 1},
		{"f-string", "x = 1\nreturn f'{x}'", "f-string", 2},
		{"u prefix", "return u'x' == 'x'", "", 0},
		{"u inside a string", "return 'u' + \"u'x'\"", "", 0},
		{"chained comparison", "return 1 < 2 < 3", "chained comparison", 1},
		{"isinstance", "return isinstance(1, int)", "isinstance", 1},
		{"semicolon alone", ";", "syntax", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := expression.Check(tt.src)
			if tt.construct == "" {
				if len(probs) != 0 {
					t.Fatalf("Check = %+v, want none", probs)
				}
				return
			}
			if len(probs) == 0 {
				t.Fatalf("Check = none, want %q on line %d", tt.construct, tt.line)
			}
			if probs[0].Construct != tt.construct || probs[0].Line != tt.line {
				t.Fatalf("Check = %+v, want %q on line %d", probs[0], tt.construct, tt.line)
			}
			_, err := expression.Compile(tt.src)
			var p *expression.Problem
			if !errors.Is(err, expression.ErrCompile) || !errors.As(err, &p) || p.Construct != tt.construct {
				t.Fatalf("Compile error = %v, want ErrCompile with problem %q", err, tt.construct)
			}
		})
	}
}

func TestCompileCache(t *testing.T) {
	c := expression.NewCache(2)
	a1, err := c.Compile("return 1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.Compile("return 1")
	if a1 != a2 {
		t.Fatal("the same text compiled twice")
	}
	// Found again as the last one compiled, and again after another.
	if a, _ := c.Compile(strings.Clone("return 1")); a != a1 {
		t.Fatal("the last text compiled twice")
	}
	if b, _ := c.Compile("return 2"); b == a1 {
		t.Fatal("another text is the last one's program")
	}
	if a, _ := c.Compile("return 1"); a != a1 {
		t.Fatal("the same text compiled twice after another")
	}
	c.Compile("return 2")
	c.Compile("return 3")
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2", c.Len())
	}
	if a3, _ := c.Compile("return 1"); a3 == a1 {
		t.Fatal("the least recently used text was kept beyond the cache's size")
	}
	_, e1 := c.Compile("import os")
	_, e2 := c.Compile("import os")
	if e1 == nil || e1 != e2 {
		t.Fatalf("failures are not cached: %v, %v", e1, e2)
	}
}
