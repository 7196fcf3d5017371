// DWARF test fixture: a little C++ (classes, namespaces, methods).
namespace geo {
struct Shape {
	virtual ~Shape() {}
	virtual int area() const = 0;
	int id = 0;
	static int count;
};

class Rect : public Shape {
public:
	Rect(int w, int h) : w_(w), h_(h) {}
	int area() const override;
private:
	int w_, h_;
};

int Shape::count = 0;

int Rect::area() const
{
	return w_ * h_;
}

namespace detail {
int scale(int v) { return v * 3; }
}
}

int use_shapes(int n)
{
	geo::Rect r(n, n + 1);
	geo::Shape &s = r;
	return s.area() + geo::detail::scale(n) + geo::Shape::count;
}

int main(int argc, char **)
{
	return use_shapes(argc) & 0;
}
