from lobestack.cli import main

raise SystemExit(main())
