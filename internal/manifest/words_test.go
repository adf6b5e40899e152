package manifest

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"gunicorn app:wsgi", []string{"gunicorn", "app:wsgi"}},
		{"  lead   and\ttrail \n", []string{"lead", "and", "trail"}},
		{`'single quoted' word`, []string{"single quoted", "word"}},
		{`"double quoted"`, []string{"double quoted"}},
		{`"say \"hi\""`, []string{`say "hi"`}},
		{`"back\slash \\ kept"`, []string{`back\slash \ kept`}},
		{`"\$HOME and \` + "`" + `"`, []string{"$HOME and `"}},
		{`it\'s a\ b`, []string{"it's", "a b"}},
		{`'$HOME' \$PATH`, []string{"$HOME", "$PATH"}},
		{`'a \ b'`, []string{`a \ b`}},
		{`'' ""`, []string{"", ""}},
		{`x "" y`, []string{"x", "", "y"}},
		{`pre'mid'"dq"post`, []string{"premiddqpost"}},
		{`'it''s'`, []string{"its"}},
		{`"a & b | c; d > e"`, []string{"a & b | c; d > e"}},
		{`'a & b $c'`, []string{"a & b $c"}},
		{"one \\\ntwo", []string{"one", "two"}},
		{"jo\\\nined", []string{"joined"}},
		{"\"multi\\\nline\"", []string{"multiline"}},
		{`python -c "print('hi')"`, []string{"python", "-c", "print('hi')"}},
		{"echo héllo wörld", []string{"echo", "héllo", "wörld"}},
		{"a=b --flag=x,y *.txt ~user #tag", []string{"a=b", "--flag=x,y", "*.txt", "~user", "#tag"}},
		{"", nil},
		{"   ", nil},
	} {
		got, err := splitWords(tc.line)
		if err != nil {
			t.Errorf("splitWords(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestSplitWords_Errors(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
	}{
		{`echo "open`, "has a double quote that is not closed"},
		{`echo 'open`, "has a single quote that is not closed"},
		{`echo "a\"`, "has a double quote that is not closed"},
		{`trailing\`, "ends with a backslash that escapes nothing"},
		{`echo $HOME`, "$ needs a shell"},
		{`echo "$HOME"`, "$ needs a shell"},
		{"echo `date`", "` needs a shell"},
		{"echo \"`date`\"", "` needs a shell"},
		{`a | b`, "| needs a shell"},
		{`a && b`, "& needs a shell"},
		{`a; b`, "; needs a shell"},
		{`a > out`, "> needs a shell"},
		{`a < in`, "< needs a shell"},
		{`(a)`, "( needs a shell"},
	} {
		_, err := splitWords(tc.line)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("splitWords(%q) error = %v, want one starting %q", tc.line, err, tc.want)
		}
	}
}
