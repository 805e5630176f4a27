from posestream_models.cli import main

raise SystemExit(main())
